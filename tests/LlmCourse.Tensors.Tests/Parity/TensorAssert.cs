using System.Globalization;

namespace LlmCourse.Tensors.Tests.Parity;

/// <summary>
/// The one place that compares a tensor with a reference and reports the largest absolute and relative
/// differences against the written tolerance. Every parity, gradcheck and regression test goes through it.
/// Set LLMCOURSE_PARITY_LOG to a file path to get one line per comparison appended there.
/// </summary>
public static class TensorAssert
{
    public sealed record Report(double MaxAbs, double MaxRel, double WorstRatio, string Line);

    /// <summary>Asserts <paramref name="actual"/> matches <paramref name="expected"/> in shape and values.</summary>
    public static Report Close(string what, Tensor actual, Tensor expected, Tolerance tolerance,
        ITestOutputHelper? output = null, string? note = null)
    {
        var shape = expected.Shape;
        if (!actual.Shape.SequenceEqual(shape))
            Assert.Fail($"{what}: shape {Format(actual.Shape)} but the reference has {Format(shape)}");
        return Close(what, Values(actual), Values(expected), shape, tolerance, output, note);
    }

    /// <summary>Compares plain arrays (scalars, loss curves, learning rates) the same way.</summary>
    public static Report Close(string what, double[] actual, double[] expected, int[] shape, Tolerance tolerance,
        ITestOutputHelper? output = null, string? note = null)
    {
        if (actual.Length != expected.Length)
            Assert.Fail($"{what}: {actual.Length} values but the reference has {expected.Length}");
        double maxAbs = 0, maxRel = 0, worstRatio = 0;
        var worst = -1;
        for (var i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            double diff;
            if (double.IsNaN(e) || double.IsNaN(a))
                diff = double.IsNaN(e) && double.IsNaN(a) ? 0 : double.PositiveInfinity;
            else if (double.IsInfinity(e) || double.IsInfinity(a))
                diff = a == e ? 0 : double.PositiveInfinity;
            else
                diff = Math.Abs(a - e);
            var rel = diff == 0 ? 0 : diff / Math.Max(Math.Abs(e), double.Epsilon);
            var allowed = tolerance.Atol + tolerance.Rtol * (double.IsFinite(e) ? Math.Abs(e) : 0);
            var ratio = diff == 0 ? 0 : allowed == 0 ? double.PositiveInfinity : diff / allowed;
            maxAbs = Math.Max(maxAbs, diff);
            if (Math.Abs(e) > 1e-30) maxRel = Math.Max(maxRel, rel);
            if (ratio > worstRatio) { worstRatio = ratio; worst = i; }
        }
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{what}: max abs {maxAbs:0.00e+0}, max rel {maxRel:0.00e+0}, tolerance {tolerance}{(note is null ? "" : "; " + note)}");
        output?.WriteLine(line);
        Log(line + (worstRatio > 1 ? "  FAIL" : ""));
        if (worstRatio > 1)
            Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                $"{line}\n  worst element {Format(Unravel(worst, shape))}: ours {actual[worst]:R}, reference {expected[worst]:R} " +
                $"({worstRatio:0.0}x the tolerance)"));
        return new Report(maxAbs, maxRel, worstRatio, line);
    }

    /// <summary>Values as doubles, whatever the dtype (indices and 0/1 masks compare as numbers).</summary>
    public static double[] Values(Tensor t) => t.DType == DType.Int32
        ? Array.ConvertAll(t.ToInt32Array(), v => (double)v)
        : Array.ConvertAll(t.To(DType.Float32).ToArray(), v => (double)v);

    public static string Format(IReadOnlyList<int> shape) => "[" + string.Join(",", shape) + "]";

    static int[] Unravel(int flat, int[] shape)
    {
        var index = new int[shape.Length];
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = shape[d] == 0 ? 0 : flat % shape[d];
            flat = shape[d] == 0 ? 0 : flat / shape[d];
        }
        return index;
    }

    static readonly object LogLock = new();

    static void Log(string line)
    {
        var path = Environment.GetEnvironmentVariable("LLMCOURSE_PARITY_LOG");
        if (string.IsNullOrEmpty(path)) return;
        lock (LogLock) File.AppendAllText(path, line + Environment.NewLine);
    }
}
