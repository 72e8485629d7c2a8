using System.Xml.Linq;
using LlmCourse.Notebooks.Export;

namespace LlmCourse.Notebooks.Tests.Export;

/// <summary>LaTeX to MathML: the structures lecture notes use, well-formed, and a readable fallback.</summary>
public sealed class TexToMathMlTests
{
    static readonly XNamespace M = "http://www.w3.org/1998/Math/MathML";

    static XElement Math(string tex, bool display = false) => XElement.Parse(TexToMathMl.Convert(tex, display));

    static IEnumerable<string> Names(XElement e) => e.Descendants().Select(d => d.Name.LocalName);

    [Fact]
    public void Fraction_Scripts_AndGreek()
    {
        var math = Math(@"\frac{\partial L}{\partial w_{ij}} = x^2 + \alpha");

        Assert.Contains("mfrac", Names(math));
        Assert.Contains("msub", Names(math));
        Assert.Contains("msup", Names(math));
        Assert.Contains(math.Descendants(M + "mi"), e => e.Value == "α");
        Assert.Contains(math.Descendants(M + "mi"), e => e.Value == "∂");
        Assert.Equal(@"\frac{\partial L}{\partial w_{ij}} = x^2 + \alpha", math.Descendants(M + "annotation").Single().Value);
    }

    [Fact]
    public void Sum_HasLimitsUnderAndOverInDisplay_AndScriptsInline()
    {
        var display = Math(@"\sum_{i=1}^{n} x_i", display: true);
        var inline = Math(@"\sum_{i=1}^{n} x_i");

        Assert.Equal("block", display.Attribute("display")!.Value);
        Assert.Contains("munderover", Names(display));
        Assert.Contains("msubsup", Names(inline));
        Assert.DoesNotContain("munderover", Names(inline));
    }

    [Fact]
    public void Softmax_WithExpLogAndLeftRight()
    {
        var math = Math(@"\operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}, \quad \log \left( \frac{1}{N} \right)");

        Assert.Contains(math.Descendants(M + "mi"), e => e.Value == "softmax");
        Assert.Contains(math.Descendants(M + "mi"), e => e.Value == "log");
        Assert.Equal(2, math.Descendants(M + "mo").Count(e => e.Attribute("fence") is not null));
        Assert.Contains("mspace", Names(math));
    }

    [Fact]
    public void Fonts_Accents_Roots_Text()
    {
        var math = Math(@"\mathbb{R}^{d} \ni \hat{y}, \sqrt{d_k}, \sqrt[3]{x}, \text{if } x > 0, \mathbf{W}");

        Assert.Contains(math.Descendants(M + "mstyle"), e => e.Attribute("mathvariant")?.Value == "double-struck");
        Assert.Contains(math.Descendants(M + "mstyle"), e => e.Attribute("mathvariant")?.Value == "bold");
        Assert.Contains("mover", Names(math));
        Assert.Contains("msqrt", Names(math));
        Assert.Contains("mroot", Names(math));
        Assert.Contains(math.Descendants(M + "mtext"), e => e.Value == "if ");
    }

    [Fact]
    public void MatricesAndCases_BecomeTables()
    {
        var matrix = Math(@"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}");
        var cases = Math(@"f(x) = \begin{cases} x & x > 0 \\ 0 & \text{otherwise} \end{cases}");

        Assert.Equal(2, matrix.Descendants(M + "mtr").Count());
        Assert.Equal(4, matrix.Descendants(M + "mtd").Count());
        Assert.Equal(2, cases.Descendants(M + "mtr").Count());
    }

    [Fact]
    public void FunctionScripts_AttachToTheName()
    {
        var math = Math(@"\log_2 x + \max_{i} a_i", display: true);

        Assert.Contains(math.Descendants(M + "msub"), e => e.Elements().First().Value == "log");
        Assert.Contains(math.Descendants(M + "munder"), e => e.Elements().First().Value == "max");
    }

    [Theory]
    [InlineData(@"\unknowncommand{x}")]
    [InlineData(@"\frac{1}{2")]
    [InlineData(@"\begin{tikzpicture}\end{tikzpicture}")]
    public void Unsupported_FallsBackToTheTexSource(string tex)
    {
        Assert.Throws<NotSupportedException>(() => TexToMathMl.Convert(tex, false));
        var kept = TexToMathMl.ConvertOrKeep(tex, display: false);
        Assert.StartsWith("<code class=\"tex\"", kept);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(tex), kept);
    }
}
