using LlmCourse.Notebooks.Kernel;
using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Formatting;

/// <summary>
/// Turns a cell's value into a MIME bundle: HTML(...) as text/html; values whose type carries a
/// <c>TypeFormatterSourceAttribute</c> in the MIME types the kernel would send (the attribute's
/// preferred ones, else text/html); everything gets text/plain as well, so a plain-text reader (the
/// CLI, a diff) still sees something.
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
        // The runner's one addition to what the kernel sends: text/plain, from the convention's formatter if there is one.
        if (!bundle.Contains(MimeBundle.PlainText))
            bundle.Add(MimeBundle.PlainText, FormatterConvention.TryFormat(value, MimeBundle.PlainText) ?? PlainTextFormatter.Format(value));
        return bundle;
    }
}
