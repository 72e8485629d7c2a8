using LlmCourse.Tensors.Formatting;
namespace LlmCourse.Data;

/// <summary>
/// One quality rule: null when the document passes, else why it fails, with the measured value
/// ("mean word length 2.1 < 3"). Rules read their threshold from <see cref="QualityThresholds"/>.
/// </summary>
public delegate string? QualityCheck(string text, QualityThresholds thresholds);

/// <summary>A rule with the name the data card reports it under.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record QualityRule(string Name, QualityCheck Check)
{
    public string? Apply(string text, QualityThresholds thresholds) => Check(text, thresholds);

    public override string ToString() => Name;
}
