namespace LlmCourse.Charts;

/// <summary>
/// Anything a notebook shows: charts, token views, tables. The last expression of a cell, or
/// <c>display(view)</c>, renders it as HTML through <see cref="TypeFormatterSourceAttribute"/>;
/// <see cref="object.ToString"/> is its plain-text summary (what the command line shows).
/// </summary>
[TypeFormatterSource(typeof(ViewFormatterSource))]
public abstract class View
{
    /// <summary>Self-contained markup: no scripts, no external files, so it shows offline and in exports.</summary>
    public abstract string ToHtml();

    /// <summary>A standalone HTML page with this view, for <see cref="Save"/>.</summary>
    public string ToHtmlPage() =>
        $"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{Svg.Escape(GetType().Name)}</title></head>" +
        $"<body style=\"font-family:{Svg.FontFamily};margin:24px\">{ToHtml()}</body></html>\n";

    /// <summary>Writes the view to a file; the extension picks the format (.html, and for charts .svg, .json).</summary>
    public virtual void Save(string path)
    {
        if (Path.GetExtension(path).ToLowerInvariant() is not (".html" or ".htm"))
            throw new ArgumentException($"{GetType().Name}.Save: '{path}': use a .html file for this view.", nameof(path));
        File.WriteAllText(path, ToHtmlPage());
    }
}
