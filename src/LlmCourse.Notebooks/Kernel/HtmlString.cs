namespace LlmCourse.Notebooks.Kernel;

/// <summary>What <c>HTML("...")</c> returns: markup shown as text/html, as the kernel's IHtmlContent is.</summary>
public sealed class HtmlString(string html)
{
    public string Html { get; } = html;

    public override string ToString() => Html;
}
