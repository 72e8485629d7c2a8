using LlmCourse.Tensors;

namespace LlmCourse.Tests.Models;

/// <summary>
/// The PyTorch references written by <c>tests/parity/make_model_fixtures.py</c> (CI reruns it before
/// the tests, so they are compared with PyTorch's own outputs, not only with the committed copies).
/// </summary>
static class ParityFixtures
{
    public static Dictionary<string, Tensor> Load(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "parity", "fixtures", file);
            if (File.Exists(path)) return Safetensors.Load(path);
        }
        throw new FileNotFoundException($"tests/parity/fixtures/{file} not found above {AppContext.BaseDirectory}; run /usr/bin/python3 tests/parity/make_model_fixtures.py");
    }

    /// <summary>Asserts |expected − actual| ≤ atol + rtol·|expected| everywhere, naming the largest difference.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, string what, double atol, double rtol = 0)
    {
        Assert.True(expected.Shape.SequenceEqual(actual.Shape),
            $"{what}: shape [{string.Join(",", actual.Shape)}], expected [{string.Join(",", expected.Shape)}]");
        var e = expected.ToArray();
        var a = actual.ToArray();
        double worst = 0, worstExcess = double.NegativeInfinity;
        var at = 0;
        for (var i = 0; i < e.Length; i++)
        {
            var difference = Math.Abs((double)e[i] - a[i]);
            var excess = difference - (atol + rtol * Math.Abs(e[i]));
            if (double.IsNaN(difference) || excess > worstExcess) (worst, worstExcess, at) = (difference, double.IsNaN(difference) ? double.PositiveInfinity : excess, i);
        }
        Assert.True(worstExcess <= 0,
            $"{what}: largest difference {worst:E3} at flat index {at} (expected {e[at]}, got {a[at]}); tolerance {atol:E1} + {rtol:E1}·|expected|");
    }
}
