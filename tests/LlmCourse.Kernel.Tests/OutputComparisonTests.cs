using LlmCourse.Kernel.Tests.Support;

namespace LlmCourse.Kernel.Tests;

/// <summary>The comparison itself: it allows the named kernel differences and nothing more.</summary>
[Trait("Category", "Kernel")]
public sealed class OutputComparisonTests
{
    static CellOutput Value(OutputType type, params (string Mime, string Text)[] data) =>
        new(type, data.Select(d => KeyValuePair.Create(d.Mime, d.Text)).ToList());

    static readonly CellOutput bootstrap = Value(OutputType.Display,
        ("text/html", "\n<div>\n    <div id='dotnet-interactive-this-cell-1' style='display: none'>…</div>\n    <script type='text/javascript'>probeAddresses()</script></div>"));

    [Fact]
    public void TheBootstrapScript_IsAllowedBeforeTheFirstCellsOutputs_AndNowhereElse()
    {
        var runner = new List<CellOutput> { CellOutput.Stream("stdout", "quick mode\n") };
        var allowed = new HashSet<string>();

        Assert.Empty(OutputComparison.Compare(0, [bootstrap, CellOutput.Stream("stdout", "quick mode\n")], runner, allowed));
        Assert.Contains(OutputComparison.BootstrapScript, allowed);
        Assert.NotEmpty(OutputComparison.Compare(1, [bootstrap, CellOutput.Stream("stdout", "quick mode\n")], runner, new HashSet<string>()));
    }

    [Fact]
    public void APlainValue_InTheKernelsHtml_ComparesByItsText()
    {
        var kernel = Value(OutputType.Result, ("text/html", "<div class=\"dni-plaintext\"><pre>3 &lt; 4</pre></div><style>…</style>"));
        var allowed = new HashSet<string>();

        Assert.Empty(OutputComparison.Compare(0, [kernel], [Value(OutputType.Result, ("text/plain", "3 < 4"))], allowed));
        Assert.Equal([OutputComparison.KernelHtmlForPlainValues], allowed);
        Assert.NotEmpty(OutputComparison.Compare(0, [kernel], [Value(OutputType.Result, ("text/plain", "3 < 5"))], allowed));
    }

    [Fact]
    public void Timings_AreMasked_OtherNumbersAreNot()
    {
        Assert.Equal("step 60/60 (100%) · loss 0.012 · # tok/s · # elapsed · ETA # , # s, # ms, # × faster",
                     OutputComparison.MaskTimings("step 60/60 (100%) · loss 0.012 · 41.2k tok/s · 0:35 elapsed · ETA 1:51, 12.5 s, 3 ms, 13.8× faster"));
        // An aligned column pads a figure by its width: the padding goes with the mask, the text around it stays.
        Assert.Equal(OutputComparison.MaskTimings("float32     9,140 tokens/s   loss 3.5083"),
                     OutputComparison.MaskTimings("float32    10,140 tokens/s   loss 3.5083"));
        Assert.NotEqual(OutputComparison.MaskTimings("float32 9,140 tokens/s loss 3.5083"),
                        OutputComparison.MaskTimings("float32 9,140 tokens/s loss 3.5084"));
        var allowed = new HashSet<string>();
        Assert.NotEmpty(OutputComparison.Compare(0, [CellOutput.Stream("stdout", "loss 0.0120 in 2.1 s\n")], [CellOutput.Stream("stdout", "loss 0.0121 in 1.9 s\n")], allowed));
        Assert.Empty(OutputComparison.Compare(0, [CellOutput.Stream("stdout", "loss 0.0120 in 2.1 s\n")], [CellOutput.Stream("stdout", "loss 0.0120 in 1.9 s\n")], allowed));
        Assert.Equal([OutputComparison.Timings], allowed);
    }

    [Fact]
    public void ProfilerReportsAndMillisecondCharts_AreMasked_TheTextAroundThemIsNot()
    {
        // Two OpProfiler.Format() reports of the same cell: other times, and rows in another order.
        const string first = """
            5 profiled steps, totals:
            family              forward ms   backward ms    total ms  of wall
            matmul                     7.6          13.0        20.7     49 %
            attention                  3.8           5.9         9.6     23 %
            outside kernels                                      1.8      4 %
            wall                                                42.5

            slowest kernels                 section       calls        ms   µs/call
            MatMul                          backward        180      13.0      72.3
            AttentionBackward               backward         20       5.9     294.5

            per step: 8.5 ms profiled
            """;
        const string second = """
            5 profiled steps, totals:
            family              forward ms   backward ms    total ms  of wall
            matmul                     9.1          17.2        26.3     51 %
            element-wise               4.0           6.1        10.1     20 %
            outside kernels                                      2.0      4 %
            wall                                                51.5

            slowest kernels                 section       calls        ms   µs/call
            MatMul                          backward        180      17.2      95.6
            UnaryBackward.Gelu              backward         20       6.1     305.0

            per step: 10.3 ms profiled
            """;
        Assert.Equal(OutputComparison.MaskTimings(first), OutputComparison.MaskTimings(second));
        Assert.NotEqual(OutputComparison.MaskTimings(first), OutputComparison.MaskTimings(second.Replace("per step", "per micro-batch")));
        Assert.NotEqual(OutputComparison.MaskTimings(first), OutputComparison.MaskTimings(second.Replace("5 profiled", "6 profiled")));

        // A chart whose series are named "… ms": its values are times; its title and categories are not.
        Assert.Equal(OutputComparison.MaskTimings("BarChart 'step': forward ms: matmul 1.028, attention 0.6175; backward ms: matmul 2.653, attention 1.148"),
                     OutputComparison.MaskTimings("BarChart 'step': forward ms: matmul 1.249, attention 0.8212; backward ms: matmul 3.288, attention 1.459"));
        Assert.NotEqual(OutputComparison.MaskTimings("BarChart 'step': forward ms: matmul 1.028, attention 0.6175"),
                        OutputComparison.MaskTimings("BarChart 'step': forward ms: matmul 1.028, norms 0.6175"));
        // A time too small for fixed notation, whichever case its exponent is printed in.
        Assert.Equal(OutputComparison.MaskTimings("BarChart 'step': optimizer ms: element-wise 0.0012 norms 0.5"),
                     OutputComparison.MaskTimings("BarChart 'step': optimizer ms: element-wise 3.7e-05 norms 1.5E-06"));
        Assert.Equal(OutputComparison.MaskTimings("BarChart 'step': optimizer ms: element-wise 0.0012, norms 0.5"),
                     OutputComparison.MaskTimings("BarChart 'step': optimizer ms: element-wise 3.7e-05, norms 1.5E-06"));
        Assert.NotEqual(OutputComparison.MaskTimings("BarChart 'step': forward loss: matmul 1.028"),
                        OutputComparison.MaskTimings("BarChart 'step': forward loss: matmul 1.249"));
    }

    [Fact]
    public void DifferentCountsKindsOrMimeTypes_AreReported()
    {
        var text = Value(OutputType.Result, ("text/plain", "tensor(1.)"));
        var html = Value(OutputType.Result, ("text/html", "<pre>tensor(1.)</pre>"), ("text/plain", "tensor(1.)"));

        Assert.NotEmpty(OutputComparison.Compare(0, [text, text], [text], new HashSet<string>()));
        Assert.NotEmpty(OutputComparison.Compare(0, [text], [Value(OutputType.Display, ("text/plain", "tensor(1.)"))], new HashSet<string>()));
        Assert.NotEmpty(OutputComparison.Compare(0, [html], [text], new HashSet<string>()));
        Assert.NotEmpty(OutputComparison.Compare(0, [CellOutput.Error("boom")], [CellOutput.Error("boom")], new HashSet<string>()));
    }
}
