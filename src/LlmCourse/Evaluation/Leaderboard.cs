using System.Globalization;
using System.Net;
using System.Text;
using LlmCourse.Models;

namespace LlmCourse.Evaluation;

/// <summary>
/// Models scored on the same validation text, in the order they were added (lesson by lesson,
/// from the unigram to GPT), shown as a table: loss per token, perplexity, and bits per character,
/// the column that compares models whatever their tokenizer.
/// </summary>
public sealed class Leaderboard
{
    readonly List<(EvaluationResult Result, string Note)> entries = [];

    public IReadOnlyList<EvaluationResult> Results => entries.Select(e => e.Result).ToArray();

    /// <summary>Scores the model on <paramref name="validationText"/>, adds it, and returns its score.</summary>
    public EvaluationResult Add(ILanguageModel model, string validationText, string note = "")
    {
        var result = model.Evaluate(validationText);
        Add(result, note);
        return result;
    }

    public Leaderboard Add(EvaluationResult result, string note = "")
    {
        ArgumentNullException.ThrowIfNull(result);
        entries.RemoveAll(e => e.Result.Model == result.Model);
        entries.Add((result, note));
        return this;
    }

    /// <summary>The entry with the fewest bits per character.</summary>
    public EvaluationResult? Best => entries.Count == 0 ? null : entries.MinBy(e => e.Result.BitsPerCharacter).Result;

    static readonly string[] Header = ["model", "loss (nats/token)", "perplexity", "bits/char", "note"];

    IEnumerable<string[]> Rows() => entries.Select(e => new[]
    {
        e.Result.Model,
        Format(e.Result.Loss, "F3"),
        Format(e.Result.Perplexity, "F2"),
        Format(e.Result.BitsPerCharacter, "F3"),
        e.Note,
    });

    static string Format(double value, string format) =>
        double.IsPositiveInfinity(value) ? "∞" : value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>A plain-text table with aligned columns.</summary>
    public override string ToString()
    {
        var rows = Rows().Prepend(Header).ToArray();
        var widths = Enumerable.Range(0, Header.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        for (var r = 0; r < rows.Length; r++)
        {
            text.AppendLine(string.Join("  ", rows[r].Select((cell, c) => c is 0 or 4 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
            if (r == 0) text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        }
        return text.ToString();
    }

    /// <summary>An HTML table, for notebooks and exported pages.</summary>
    public string ToHtml()
    {
        var html = new StringBuilder("<table class=\"leaderboard\"><thead><tr>");
        foreach (var h in Header) html.Append("<th>").Append(WebUtility.HtmlEncode(h)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var row in Rows())
        {
            html.Append("<tr>");
            for (var c = 0; c < row.Length; c++)
                html.Append(c is 0 or 4 ? "<td>" : "<td style=\"text-align:right\">").Append(WebUtility.HtmlEncode(row[c])).Append("</td>");
            html.Append("</tr>");
        }
        return html.Append("</tbody></table>").ToString();
    }
}
