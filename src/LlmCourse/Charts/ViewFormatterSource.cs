namespace LlmCourse.Charts;

/// <summary>
/// The formatters the kernel (and the course runner) create for every <see cref="View"/>: text/html
/// with the view's self-contained markup (inline SVG for charts), and text/plain with its summary.
/// The kernel calls each formatter's single public <c>Format(object, TextWriter)</c> by reflection.
/// The first call in a kernel installs <see cref="KernelDisplayBridge"/>, which makes live views update there.
/// </summary>
public sealed class ViewFormatterSource
{
    public IEnumerable<object> CreateTypeFormatters() => [new HtmlFormatter(), new PlainTextFormatter()];

    public sealed class HtmlFormatter
    {
        public string MimeType => "text/html";

        public Type Type => typeof(View);

        public bool Format(object instance, TextWriter writer)
        {
            if (instance is not View view) return false;
            KernelDisplayBridge.EnsureInstalled();
            writer.Write(view.ToHtml());
            return true;
        }
    }

    public sealed class PlainTextFormatter
    {
        public string MimeType => "text/plain";

        public Type Type => typeof(View);

        public bool Format(object instance, TextWriter writer)
        {
            if (instance is not View view) return false;
            KernelDisplayBridge.EnsureInstalled();
            writer.Write(view.ToString());
            return true;
        }
    }
}
