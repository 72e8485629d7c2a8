using System.Net;

namespace LlmCourse.Tensors.Formatting;

/// <summary>
/// Formatters for a value whose <c>ToString()</c> is what a reader wants to see (a tensor as PyTorch
/// prints it, a module tree, a record's fields, a score): text/plain is that text, and text/html,
/// for a front end that asks for HTML, is the same text in a <c>&lt;pre&gt;</c>, never the kernel's
/// property table. The kernel calls each formatter's single public <c>Format(object, TextWriter)</c>
/// by reflection. The formatters declare no <c>Type</c>: the kernel then registers them for the type
/// that carries the attribute (and the types derived from it), one registration per type.
/// </summary>
public sealed class TextFormatterSource
{
    public IEnumerable<object> CreateTypeFormatters() => [new PlainTextFormatter(), new HtmlFormatter()];

    /// <summary>The value's text, as text/html: escaped, in a block that keeps its line breaks and alignment.</summary>
    public static string ToHtml(object value) =>
        $"<pre class=\"llmcourse-text\" style=\"margin:0\">{WebUtility.HtmlEncode(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture))}</pre>";

    public sealed class PlainTextFormatter
    {
        public string MimeType => "text/plain";

        public bool Format(object instance, TextWriter writer)
        {
            if (instance is null) return false;
            writer.Write(Convert.ToString(instance, System.Globalization.CultureInfo.InvariantCulture));
            return true;
        }
    }

    public sealed class HtmlFormatter
    {
        public string MimeType => "text/html";

        public bool Format(object instance, TextWriter writer)
        {
            if (instance is null) return false;
            writer.Write(ToHtml(instance));
            return true;
        }
    }
}
