using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Text;

/// <summary>One downloadable dataset: where it lives on the web and how to recognise a good copy.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record DatasetInfo(
    string Name,
    string File,
    string Url,
    string Sha256,
    long Size,
    string Licence,
    string Description);
