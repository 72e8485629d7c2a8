using System.Globalization;
using System.Xml.Linq;

namespace LlmCourse.Tests.Charts;

/// <summary>Reads a chart's SVG back as XML, so tests check structure rather than strings.</summary>
static class ChartSvg
{
    static readonly XNamespace Ns = "http://www.w3.org/2000/svg";

    public static XElement Parse(string svg) => XDocument.Parse(svg).Root!;

    public static IEnumerable<XElement> All(this XElement root, string name) => root.Descendants(Ns + name);

    public static IEnumerable<string> Texts(this XElement root) => root.All("text").Select(t => t.Value);

    public static double Attr(this XElement e, string name) => double.Parse(e.Attribute(name)!.Value, CultureInfo.InvariantCulture);
}
