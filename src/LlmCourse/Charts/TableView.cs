using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;

namespace LlmCourse.Charts;

/// <summary>
/// A small table of results (a leaderboard, a comparison of settings): numbers right-aligned with a
/// few significant digits, optionally the best value of a column in bold.
/// </summary>
/// <example><code>
/// TableView.From(results, "Leaderboard").Highlight("Perplexity", lowerIsBetter: true)
/// </code></example>
public sealed class TableView : View
{
    readonly Dictionary<int, bool> highlights = [];

    public TableView(IEnumerable<string> columns, IEnumerable<IEnumerable<object?>> rows, string? title = null)
    {
        Columns = columns.ToArray();
        Rows = rows.Select(r => r.ToArray()).ToArray();
        for (var i = 0; i < Rows.Count; i++)
            if (Rows[i].Length != Columns.Count)
                throw new ArgumentException($"TableView{(title is null ? "" : $" '{title}'")}: row {i + 1} has {Rows[i].Length} cells for {Columns.Count} columns.");
        Title = title;
    }

    /// <summary>One row per item, one column per public property (records, classes) or field (tuples).</summary>
    public static TableView From<T>(IEnumerable<T> items, string? title = null)
    {
        var type = typeof(T);
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToArray();
        if (properties.Length > 0)
            return new TableView(properties.Select(p => p.Name), items.Select(i => properties.Select(p => p.GetValue(i))), title);
        var fields = type.GetFields(BindingFlags.Public | BindingFlags.Instance);
        return new TableView(fields.Select(f => f.Name), items.Select(i => fields.Select(f => f.GetValue(i))), title);
    }

    public IReadOnlyList<string> Columns { get; }
    public IReadOnlyList<object?[]> Rows { get; }
    public string? Title { get; }

    /// <summary>Puts the best number of <paramref name="column"/> in bold.</summary>
    public TableView Highlight(string column, bool lowerIsBetter = true)
    {
        var index = Columns.ToList().IndexOf(column);
        if (index < 0) throw new ArgumentException($"TableView: no column '{column}'. Columns: {string.Join(", ", Columns)}.");
        highlights[index] = lowerIsBetter;
        return this;
    }

    public override string ToHtml()
    {
        var best = BestRows();
        var html = new StringBuilder("<table class=\"llmcourse-table\" style=\"border-collapse:collapse;font-family:")
            .Append(Svg.FontFamily).Append(";font-size:14px\">");
        if (Title is not null)
            html.Append("<caption style=\"font-weight:600;text-align:left;padding:4px 0\">").Append(WebUtility.HtmlEncode(Title)).Append("</caption>");
        html.Append("<thead><tr>");
        for (var c = 0; c < Columns.Count; c++)
            html.Append("<th style=\"border-bottom:2px solid #444;padding:4px 10px;text-align:").Append(IsNumeric(c) ? "right" : "left")
                .Append("\">").Append(WebUtility.HtmlEncode(Columns[c])).Append("</th>");
        html.Append("</tr></thead><tbody>");
        for (var r = 0; r < Rows.Count; r++)
        {
            html.Append("<tr>");
            for (var c = 0; c < Columns.Count; c++)
            {
                var bold = best.TryGetValue(c, out var row) && row == r;
                html.Append("<td style=\"border-bottom:1px solid #ddd;padding:4px 10px;text-align:").Append(IsNumeric(c) ? "right" : "left")
                    .Append(bold ? ";font-weight:700" : "").Append("\">").Append(WebUtility.HtmlEncode(Cell(Rows[r][c]))).Append("</td>");
            }
            html.Append("</tr>");
        }
        return html.Append("</tbody></table>").ToString();
    }

    /// <summary>Aligned plain text.</summary>
    public override string ToString()
    {
        var cells = Rows.Select(r => r.Select(Cell).ToArray()).Prepend(Columns.ToArray()).ToArray();
        var widths = Enumerable.Range(0, Columns.Count).Select(c => cells.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        if (Title is not null) text.AppendLine(Title);
        for (var r = 0; r < cells.Length; r++)
        {
            text.AppendLine(string.Join("  ", cells[r].Select((cell, c) => IsNumeric(c) ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd());
            if (r == 0) text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        }
        return text.ToString().TrimEnd();
    }

    Dictionary<int, int> BestRows()
    {
        var best = new Dictionary<int, int>();
        foreach (var (column, lowerIsBetter) in highlights)
        {
            var candidates = Rows.Select((row, index) => (Value: AsDouble(row[column]), index))
                .Where(v => v.Value is { } d && double.IsFinite(d)).ToList();
            if (candidates.Count == 0) continue;
            best[column] = (lowerIsBetter ? candidates.MinBy(v => v.Value) : candidates.MaxBy(v => v.Value)).index;
        }
        return best;
    }

    bool IsNumeric(int column) => Rows.Count > 0 && Rows.All(r => r[column] is null || AsDouble(r[column]) is not null);

    static double? AsDouble(object? value) => value switch
    {
        double d => d,
        float f => f,
        int i => i,
        long l => l,
        decimal m => (double)m,
        IConvertible c and not string and not bool and not char => c.ToDouble(CultureInfo.InvariantCulture),
        _ => null,
    };

    static string Cell(object? value) => value switch
    {
        null => "",
        double or float or decimal => Svg.Number(AsDouble(value)!.Value, 4),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
