using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Tensors.Tests.Parity;

/// <summary>
/// Ops whose output is random: the engine's generator is not PyTorch's, so they are checked against the
/// distribution they must follow, at fixed seeds. Bounds are 5 standard deviations (or a chi-square
/// quantile of 1 - 1e-4), so a correct implementation would fail them for fewer than 1 seed in 10 000,
/// while a wrong scaling, rate or distribution fails them by a wide margin.
/// </summary>
[Trait("Category", "Parity")]
public sealed class RandomOpsTests(ITestOutputHelper output)
{
    const int N = 100_000;

    static Tensor NonZero(int n, ulong seed)
    {
        var x = Tensor.Randn([n], new Generator(seed));
        return x + x.Gt(0f) * 2f - 1f;   // positives up by 1, the rest down by 1: |x| >= 1, so a 0 means "dropped"
    }

    [Fact]
    public void DropoutZeroesAFractionPAndScalesTheRestByOneOverOneMinusP()
    {
        const float p = 0.3f;
        var x = NonZero(N, 1).WithGrad();
        var y = F.Dropout(x, p, training: true, generator: new Generator(7));
        var xs = x.ToArray();
        var ys = y.ToArray();
        Assert.DoesNotContain(0f, xs);
        var zeroed = ys.Count(v => v == 0f);
        var fraction = zeroed / (double)N;
        var sigma = Math.Sqrt(p * (1 - p) / N);
        output.WriteLine($"dropout p={p}: zeroed {fraction:F5}, expected {p} ± {5 * sigma:F5} (5 sigma)");
        Assert.InRange(fraction, p - 5 * sigma, p + 5 * sigma);
        for (var i = 0; i < N; i++)
            if (ys[i] != 0f)
                Assert.True(Math.Abs(ys[i] - xs[i] / (1.0 - p)) <= 1e-6 * Math.Abs(xs[i] / (1.0 - p)),
                    $"kept element {i}: {ys[i]} != {xs[i]} / (1 - {p})");

        // The backward pass uses the forward's mask and scale.
        var proj = Tensor.Randn([N], new Generator(3));
        (y * proj).Sum().Backward();
        var grad = x.Grad!.ToArray();
        var ps = proj.ToArray();
        for (var i = 0; i < N; i++)
        {
            var expected = ys[i] == 0f ? 0.0 : ps[i] / (1.0 - p);
            Assert.True(Math.Abs(grad[i] - expected) <= 1e-6 * Math.Abs(expected),
                $"grad {i}: {grad[i]}, expected {expected} (output {ys[i]})");
        }
    }

    [Fact]
    public void DropoutInEvalModeIsTheIdentity()
    {
        var x = NonZero(1000, 2).WithGrad();
        var y = F.Dropout(x, 0.5f, training: false);
        Assert.Equal(x.ToArray(), y.ToArray());
        var proj = Tensor.Randn([1000], new Generator(4));
        (y * proj).Sum().Backward();
        Assert.Equal(proj.ToArray(), x.Grad!.ToArray());
    }

    [Fact]
    public void DropoutEdgeRates()
    {
        var x = NonZero(1000, 5);
        Assert.Equal(x.ToArray(), F.Dropout(x, 0f, training: true, generator: new Generator(1)).ToArray());
        Assert.All(F.Dropout(x, 1f, training: true, generator: new Generator(1)).ToArray(), v => Assert.Equal(0f, v));   // PyTorch: zeros, no NaN
    }

    [Fact]
    public void DropoutIsDeterministicPerSeed()
    {
        var x = NonZero(1000, 6);
        var a = F.Dropout(x, 0.5f, training: true, generator: new Generator(11)).ToArray();
        var b = F.Dropout(x, 0.5f, training: true, generator: new Generator(11)).ToArray();
        var c = F.Dropout(x, 0.5f, training: true, generator: new Generator(12)).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void DropoutOfAViewDropsByPositionInTheView()
    {
        // Element i of the result is kept or dropped by (seed, i), i counted row-major in the view's own shape:
        // a transposed view and its contiguous copy lose the same positions.
        var x = NonZero(37 * 129, 9).Reshape(37, 129).Transpose(0, 1);
        var fromView = F.Dropout(x, 0.4f, training: true, generator: new Generator(13)).ToArray();
        var fromCopy = F.Dropout(x.Contiguous(), 0.4f, training: true, generator: new Generator(13)).ToArray();
        Assert.Equal(fromCopy, fromView);
        Assert.Contains(0f, fromView);
    }

    [Fact]
    public void DropoutKeepsANonFiniteInputVisible()
    {
        // x * mask, as PyTorch computes it: a dropped NaN or infinity gives NaN, not 0, so a training step that
        // went wrong is still caught downstream. A select (kept ? x / keep : 0) would hide it.
        var x = Tensor.FromArray([.. Enumerable.Repeat(float.NaN, 500), .. Enumerable.Repeat(float.PositiveInfinity, 500)], [1000]);
        var y = F.Dropout(x, 0.5f, training: true, generator: new Generator(14)).ToArray();
        Assert.All(y[..500], v => Assert.True(float.IsNaN(v)));
        Assert.Contains(y[500..], float.IsNaN);                          // dropped: inf * 0
        Assert.Contains(y[500..], float.IsPositiveInfinity);             // kept: inf * 2
    }

    [Fact]
    public void DropoutModuleFollowsTrainAndEval()
    {
        var dropout = new NN.Dropout(0.5f);
        var x = NonZero(1000, 8);
        Assert.True(dropout.Training);   // modules start in training mode, as in PyTorch
        Assert.Contains(0f, dropout.Forward(x).ToArray());
        dropout.Eval();
        Assert.Equal(x.ToArray(), dropout.Forward(x).ToArray());
    }

    [Fact]
    public void MultinomialFollowsTheRowWeights()
    {
        // Unnormalised weights (PyTorch accepts any non-negative row), one sample per row, 20 000 rows.
        float[] weights = [0.2f, 0.4f, 0.6f, 0.3f, 0.5f];
        const int rows = 20_000;
        var probs = Tensor.FromArray(weights, 1, 5).Expand(rows, 5).Contiguous();
        var samples = F.Multinomial(probs, 1, new Generator(2024));
        Assert.Equal(DType.Int32, samples.DType);
        Assert.Equal([rows, 1], samples.Shape);
        var counts = new double[5];
        foreach (var s in samples.ToInt32Array()) counts[s]++;
        var total = weights.Sum();
        var chiSquare = 0.0;
        for (var c = 0; c < 5; c++)
        {
            var expected = rows * weights[c] / total;
            chiSquare += (counts[c] - expected) * (counts[c] - expected) / expected;
        }
        // 4 degrees of freedom: P(chi2 > 23.51) = 1e-4.
        output.WriteLine($"multinomial counts [{string.Join(", ", counts)}], chi-square {chiSquare:F2} (bound 23.51)");
        Assert.True(chiSquare < 23.51, $"chi-square {chiSquare:F2} >= 23.51: counts [{string.Join(", ", counts)}]");
    }

    [Fact]
    public void MultinomialNeverDrawsAZeroWeight()
    {
        var probs = Tensor.FromArray([0f, 0.5f, 0f, 0.5f, 0f], 1, 5).Expand(5000, 5).Contiguous();
        var samples = F.Multinomial(probs, 1, new Generator(9)).ToInt32Array();
        Assert.All(samples, s => Assert.True(s is 1 or 3, $"drew class {s}, whose weight is 0"));
        Assert.InRange(samples.Count(s => s == 1), 2500 - 5 * 35.4, 2500 + 5 * 35.4);   // sigma = sqrt(5000/4)
    }

    [Fact]
    public void MultinomialWithoutReplacementDrawsEachClassOnce()
    {
        // torch.multinomial's default: without replacement, so all 4 draws of a row are distinct, and the
        // first draw follows the weights.
        float[] weights = [0.1f, 0.2f, 0.3f, 0.4f];
        const int rows = 20_000;
        var probs = Tensor.FromArray(weights, 1, 4).Expand(rows, 4).Contiguous();
        var samples = F.Multinomial(probs, 4, new Generator(77)).ToInt32Array();
        var first = new double[4];
        for (var r = 0; r < rows; r++)
        {
            var row = samples.AsSpan(r * 4, 4).ToArray();
            Assert.True(row.Distinct().Count() == 4, $"row {r} repeats a class: [{string.Join(",", row)}]");
            first[row[0]]++;
        }
        var chiSquare = Enumerable.Range(0, 4).Sum(c => Math.Pow(first[c] - rows * weights[c], 2) / (rows * weights[c]));
        // 3 degrees of freedom: P(chi2 > 21.11) = 1e-4.
        output.WriteLine($"first draws [{string.Join(", ", first)}], chi-square {chiSquare:F2} (bound 21.11)");
        Assert.True(chiSquare < 21.11, $"chi-square {chiSquare:F2}: first draws [{string.Join(", ", first)}]");
    }

    [Fact]
    public void MultinomialWithReplacementRepeatsClasses()
    {
        float[] weights = [0.25f, 0.75f];
        var samples = F.Multinomial(Tensor.FromArray(weights), 4000, new Generator(8), replacement: true).ToInt32Array();
        var ones = samples.Count(s => s == 1);
        Assert.InRange(ones, 3000 - 5 * 27.4, 3000 + 5 * 27.4);   // sigma = sqrt(4000 · 0.25 · 0.75)
    }

    [Fact]
    public void MultinomialIsDeterministicPerSeed()
    {
        var probs = Tensor.FromArray([0.1f, 0.2f, 0.3f, 0.4f], 1, 4).Expand(100, 4).Contiguous();
        Assert.Equal(F.Multinomial(probs, 1, new Generator(5)).ToInt32Array(), F.Multinomial(probs, 1, new Generator(5)).ToInt32Array());
    }

    [Fact]
    public void RandnAndRandHaveTheirMoments()
    {
        var g = Tensor.Randn([N], new Generator(1)).ToArray();
        double mean = g.Average(v => (double)v), variance = g.Average(v => (v - mean) * (v - mean));
        output.WriteLine($"randn: mean {mean:F5}, variance {variance:F5}");
        Assert.InRange(mean, -5 / Math.Sqrt(N), 5 / Math.Sqrt(N));
        Assert.InRange(variance, 1 - 5 * Math.Sqrt(2.0 / N), 1 + 5 * Math.Sqrt(2.0 / N));
        var u = Tensor.Rand([N], new Generator(1)).ToArray();
        Assert.All(u, v => Assert.True(v is >= 0f and < 1f, $"rand gave {v}"));
        var uMean = u.Average(v => (double)v);
        Assert.InRange(uMean, 0.5 - 5 * Math.Sqrt(1.0 / 12 / N), 0.5 + 5 * Math.Sqrt(1.0 / 12 / N));
        Assert.Equal(Tensor.Randn([64], new Generator(3)).ToArray(), Tensor.Randn([64], new Generator(3)).ToArray());
    }
}
