using System.Globalization;
using System.Text;

namespace LlmCourse.Charts;

/// <summary>
/// Small helpers for writing SVG by hand: escaping, invariant numbers, the shared look. Styling is
/// in attributes rather than CSS, because notebook front ends strip &lt;style&gt; from untrusted output.
/// </summary>
static class Svg
{
    public const string FontFamily = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
    public const string Axis = "#444";
    public const string Grid = "#e6e6e6";
    public const string Ink = "#222";
    public const string Muted = "#666";

    /// <summary>Text for XML content and attribute values.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            switch (c)
            {
                case '&': escaped.Append("&amp;"); break;
                case '<': escaped.Append("&lt;"); break;
                case '>': escaped.Append("&gt;"); break;
                case '"': escaped.Append("&quot;"); break;
                case '\'': escaped.Append("&#39;"); break;
                // Control characters are not allowed in XML 1.0 at all; show them as their code.
                case < ' ' and not ('\n' or '\t' or '\r'): escaped.Append($"\\x{(int)c:x2}"); break;
                default: escaped.Append(c); break;
            }
        }
        return escaped.ToString();
    }

    /// <summary>A coordinate: two decimals are below a pixel and keep files small.</summary>
    public static string N(double value) => Math.Round(value, 2).ToString(CultureInfo.InvariantCulture);

    /// <summary>Opens the root element with a white background, so charts read on dark themes too.</summary>
    public static void Open(StringBuilder svg, int width, int height, string title)
    {
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" ")
            .Append($"font-family=\"{FontFamily}\" font-size=\"14\" role=\"img\" aria-label=\"{Escape(title)}\">")
            .Append($"<title>{Escape(title)}</title>")
            .Append($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
    }

    public static void Text(StringBuilder svg, double x, double y, string text, string anchor = "middle",
        int size = 14, string fill = Ink, string extra = "")
    {
        svg.Append($"<text x=\"{N(x)}\" y=\"{N(y)}\" text-anchor=\"{anchor}\" font-size=\"{size}\" fill=\"{fill}\"{extra}>")
            .Append(Escape(text)).Append("</text>");
    }

    /// <summary>A number for people: few digits, thousands as k, millions as M, then G, T and P (FLOPs reach them).</summary>
    public static string Number(double value, int significant = 4)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsInfinity(value)) return value > 0 ? "∞" : "-∞";
        var magnitude = Math.Abs(value);
        if (magnitude >= 1e18) return value.ToString("0.##e0", CultureInfo.InvariantCulture);
        if (magnitude >= 1e15) return Trim(value / 1e15, significant) + "P";
        if (magnitude >= 1e12) return Trim(value / 1e12, significant) + "T";
        if (magnitude >= 1e9) return Trim(value / 1e9, significant) + "G";
        if (magnitude >= 1e6) return Trim(value / 1e6, significant) + "M";
        if (magnitude >= 1e4) return Trim(value / 1e3, significant) + "k";
        if (magnitude != 0 && magnitude < 1e-3) return value.ToString("0.##e0", CultureInfo.InvariantCulture);
        return Trim(value, significant);
    }

    static string Trim(double value, int significant)
    {
        if (value == 0) return "0";
        var digits = Math.Max(0, significant - 1 - (int)Math.Floor(Math.Log10(Math.Abs(value))));
        return Math.Round(value, Math.Min(digits, 15)).ToString("0.###############", CultureInfo.InvariantCulture);
    }
}
