using LlmCourse.Charts;
using LlmCourse.Notebooks.Formatting;
using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Tests.Formatting;

/// <summary>The runner's formatting: the kernel's convention lookup, and the plain-text fallback.</summary>
public sealed class FormattingTests
{
    [Fact]
    public void CourseCharts_RenderThroughTheConvention_AsHtmlWithInlineSvg_AndPlainText()
    {
        var chart = new LineChart("Loss").Add("train", new[] { 3.0, 2.0, 1.5 });

        var bundle = ValueFormatter.Format(chart);

        Assert.Equal([MimeBundle.Html, MimeBundle.PlainText], bundle.Items.Select(i => i.Key));
        Assert.Contains("<svg xmlns=\"http://www.w3.org/2000/svg\"", bundle[MimeBundle.Html]);
        Assert.Equal("LineChart 'Loss': train (3 points, last 1.5)", bundle[MimeBundle.PlainText]);
    }

    [Fact]
    public void Lookup_IsByAttributeName_WithPreferredMimeTypesFirst()
    {
        var lookup = FormatterConvention.For(typeof(TrainingChart));

        Assert.Equal(["text/html", "text/plain"], lookup.MimeTypes);
        Assert.All(lookup.Formatters, f => Assert.Equal(typeof(View), f.Type));
        Assert.Same(FormatterConvention.Lookup.None, FormatterConvention.For(typeof(string)));
    }

    [TypeFormatterSource(typeof(ThrowingSource))]
    sealed class Broken;

    sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
    {
        public Type FormatterSourceType { get; } = formatterSourceType;
    }

    sealed class ThrowingSource
    {
        public IEnumerable<object> CreateTypeFormatters() => [new Throwing()];
    }

    sealed class Throwing
    {
        public string MimeType => "text/html";

        public bool Format(object instance, TextWriter writer) => throw new InvalidOperationException("formatter bug");
    }

    [Fact]
    public void AFormatterThatThrows_IsNamedInTheError()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ValueFormatter.Format(new Broken()));

        Assert.Contains("text/html formatter", e.Message);
        Assert.Contains(nameof(Throwing), e.Message);
        Assert.Contains("formatter bug", e.Message);
    }

    record Point(int X, int Y);

    sealed class Plain
    {
        public int Count { get; } = 2;
        public string Name { get; } = "n";
    }

    [Theory]
    [MemberData(nameof(PlainValues))]
    public void PlainText_LooksLikeTheKernels(object? value, string expected)
    {
        Assert.Equal(expected, ValueFormatter.Format(value)[MimeBundle.PlainText]);
    }

    public static TheoryData<object?, string> PlainValues() => new()
    {
        { null, "<null>" },
        { "text", "text" },
        { 3.5, "3.5" },
        { 1e-7f, "1E-07" },
        { new[] { 1, 2, 3 }, "[ 1, 2, 3 ]" },
        { new List<string>(), "[]" },
        { new Point(1, 2), "Point { X = 1, Y = 2 }" },
        { new Plain(), "Plain { Count = 2, Name = n }" },
        { new Dictionary<string, int> { ["a"] = 1 }, "[ [a, 1] ]" },
        { (1, "b"), "(1, b)" },
        { new[] { new[] { 1, 2 }, new[] { 3 } }, "[ [ 1, 2 ], [ 3 ] ]" },
    };
}
