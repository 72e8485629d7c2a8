using LlmCourse.Notebooks.Kernel;
using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Formatting;

/// <summary>
/// Turns a cell's value into a MIME bundle: HTML(...) as text/html; values whose type carries a
/// <c>TypeFormatterSourceAttribute</c> in every MIME type their formatters offer (preferred first);
/// everything gets text/plain as well, so a plain-text reader (the CLI, a diff) still sees something.
/// </summary>
public static class ValueFormatter
{
    public static MimeBundle Format(object? value)
    {
        if (value is HtmlString html) return new MimeBundle().Add(MimeBundle.Html, html.Html);
        var bundle = new MimeBundle();
        if (value is null) return bundle.Add(MimeBundle.PlainText, PlainTextFormatter.NullText);

        foreach (var mimeType in FormatterConvention.For(value.GetType()).MimeTypes)
            if (FormatterConvention.TryFormat(value, mimeType) is { } formatted)
                bundle.Add(mimeType, formatted);
        if (!bundle.Contains(MimeBundle.PlainText)) bundle.Add(MimeBundle.PlainText, PlainTextFormatter.Format(value));
        return bundle;
    }
}
