using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Tensors.Tests.Parity;

/// <summary>
/// Ops on tensors past the engine's parallel thresholds (65 536 elements; 2 Mflop for the GEMM), so the
/// multi-threaded kernels, their chunking and remainders are held to PyTorch as well
/// (engine_large.safetensors; see large_cases in make_engine_fixtures.py). Inputs and projections are
/// recomputed here from the same integer hash; each output and gradient is compared on every 53rd
/// element and, over all elements, through its dot product with a formula weight w, within a fraction
/// of Σ|w_i·ours_i| (see <see cref="DotProduct"/>), so a chunk left out or computed wrongly breaks it;
/// <see cref="AZeroedChunkBetweenTheSamples_FailsTheDotProduct"/> shows that it does.
/// </summary>
[Trait("Category", "Parity")]
public sealed class LargeParityTests(ITestOutputHelper output)
{
    static readonly Tolerance E = Tolerance.Elementwise;
    static readonly Tolerance R = Tolerance.Reduction;

    public static readonly Dictionary<string, (Func<Tensor[], Tensor[]> Run, Tolerance Forward, Tolerance Backward)> Cases = new()
    {
        ["large_gelu"] = (x => [F.Gelu(x[0])], E, E),
        ["large_exp_transposed"] = (x => [x[0].T.Exp()], E, E),
        ["large_contiguous"] = (x => [x[0].T.Contiguous()], Tolerance.Exact, E),
        ["large_add_bcast"] = (x => [x[0] + x[1]], E, R),
        ["large_mul"] = (x => [x[0] * x[1]], E, E),
        ["large_scalar_ops"] = (x => [x[0] * 1.5f + 0.25f], E, E),
        ["large_sum_dim"] = (x => [x[0].Sum(1)], R, E),
        ["large_mean_middle"] = (x => [x[0].Mean(1)], R, E),
        ["large_softmax"] = (x => [x[0].Softmax(-1)], R, R),
        ["large_log_softmax"] = (x => [x[0].LogSoftmax(-1)], R, R),
        ["large_layer_norm"] = (x => [F.LayerNorm(x[0], [301], x[1], x[2])], R, R),
        ["large_cross_entropy"] = (x => [F.CrossEntropy(x[0], x[1])], R, R),
        ["large_matmul"] = (x => [x[0].MatMul(x[1])], Tolerance.LargeMatMul, Tolerance.LargeMatMul),
        ["large_matmul_tb"] = (x => [x[0].MatMul(x[1].T)], Tolerance.LargeMatMul, Tolerance.LargeMatMul),
        ["large_embedding"] = (x => [F.Embedding(x[0], x[1])], Tolerance.Exact, R),
        ["large_attention_causal"] = (x => [OpCases.Attention(x[0], x[1], x[2], causal: true)], R, R),
        ["large_attention_causal:sdpa"] = (x => [F.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true)], R, R),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesPyTorch(string name)
    {
        var (run, forward, backward) = Cases[name];
        name = name.Split(':')[0];   // a variant (another spelling of the op) shares the fixture
        var inputs = Inputs(name);
        var outputs = run(inputs);
        Tensor? loss = null;
        for (var k = 0; k < outputs.Length; k++)
        {
            var w = Hashed(outputs[k].Shape, 500 + k, -1, 2);
            Compare($"{name} output {k}", outputs[k], $"{name}/out/{k}", w, forward);
            var term = (outputs[k] * w).Sum();
            loss = loss is null ? term : loss + term;
        }
        loss!.Backward();
        for (var i = 0; i < inputs.Length; i++)
        {
            if (inputs[i].DType != DType.Float32) continue;
            Assert.True(inputs[i].Grad is not null, $"{name}: no gradient reached input {i}");
            Compare($"{name} grad {i}", inputs[i].Grad!, $"{name}/grad/{i}", Hashed(inputs[i].Shape, 1000 + i, -1, 2), backward);
        }
    }

    /// <summary>
    /// The whole-tensor check binds where the sampling cannot: 52 outputs zeroed between two sampled
    /// elements (a kernel that skipped a remainder would do that) break the dot product's bound.
    /// </summary>
    [Theory]
    [InlineData("large_softmax")]
    [InlineData("large_gelu")]
    [InlineData("large_layer_norm")]
    public void AZeroedChunkBetweenTheSamples_FailsTheDotProduct(string name)
    {
        var output0 = Cases[name].Run(Inputs(name))[0];
        var values = TensorAssert.Values(output0);
        var w = Hashed(output0.Shape, 500, -1, 2).ToArray();
        var reference = Fixtures.Get("large", $"{name}/out/0/dot").ToArray()[0];
        var (dot, bound) = DotProduct(values, w, reference);
        Assert.True(Math.Abs(dot - reference) <= bound, $"{name}: the intact output fails: |{dot} - {reference}| > {bound}");

        var stride = Fixtures.Get("large", $"{name}/stride").ToInt32Array()[0];
        var start = stride * (values.Length / stride / 2) + 1;   // just after a sampled element, in the middle
        for (var i = start; i < start + Math.Min(52, stride - 1); i++) values[i] = 0;
        var (zeroed, _) = DotProduct(values, w, reference);

        Assert.True(Math.Abs(zeroed - reference) > bound,
            $"{name}: zeroing {Math.Min(52, stride - 1)} elements moved the dot product by {Math.Abs(zeroed - reference):G3}, within the bound {bound:G3}");
    }

    [Fact]
    public void EveryFixtureCaseIsTested()
    {
        var names = Fixtures.File("large").Keys.Where(k => k.EndsWith("/stride", StringComparison.Ordinal))
            .Select(k => k[..^"/stride".Length]).Order().ToArray();
        Assert.Equal(names, Cases.Keys.Select(k => k.Split(':')[0]).Distinct().Order().ToArray());
    }

    void Compare(string what, Tensor actual, string key, Tensor weight, Tolerance tolerance)
    {
        var stride = Fixtures.Get("large", key[..key.IndexOf('/')] + "/stride").ToInt32Array()[0];
        var values = TensorAssert.Values(actual);
        var picks = Enumerable.Range(0, (values.Length + stride - 1) / stride).Select(i => i * stride).ToList();
        if (picks[^1] != values.Length - 1) picks.Add(values.Length - 1);
        var expected = Fixtures.Get("large", key + "/sample");
        TensorAssert.Close($"{what} [every {stride}th of {values.Length}]", picks.Select(i => values[i]).ToArray(),
            TensorAssert.Values(expected), expected.Shape, tolerance, output);

        var reference = Fixtures.Get("large", key + "/dot").ToArray()[0];
        var (dot, bound) = DotProduct(values, weight.ToArray(), reference);
        output.WriteLine($"{what}: |dot - reference| = {Math.Abs(dot - reference):G3}, bound {bound:G3}, ratio {Math.Abs(dot - reference) / bound:G3}");
        TensorAssert.Close($"{what} dot product with w over all {values.Length} elements", [dot], [reference], [1],
            new Tolerance(bound, 0), output);
    }

    /// <summary>The bound on |Σ w_i·ours_i − reference| as a fraction of Σ|w_i·ours_i|.</summary>
    public const double DotFraction = 1e-5;

    /// <summary>
    /// Σ w_i·ours_i and its tolerance: <see cref="DotFraction"/> of Σ|w_i·ours_i|, the size of what is
    /// summed (which, unlike the dot product itself, does not cancel), plus the float32 rounding of the
    /// stored reference. A bound built from the element-wise tolerances instead (Σ|w_i|·(atol + rtol·|ours_i|))
    /// grows with n while the signed sum grows with √n: for softmax it exceeded |dot| itself, so an
    /// all-zero output passed. This one is broken by a zeroed chunk of a few dozen elements.
    /// </summary>
    public static (double Dot, double Bound) DotProduct(double[] values, float[] w, double reference)
    {
        double dot = 0, size = 0;
        for (var i = 0; i < values.Length; i++)
        {
            dot += values[i] * w[i];
            size += Math.Abs(values[i] * w[i]);
        }
        return (dot, DotFraction * size + 1e-7 * Math.Abs(reference));
    }

    /// <summary>Input i of a case, rebuilt from its spec [kind, seed, a, b] and shape.</summary>
    public static Tensor[] Inputs(string name)
    {
        var specs = Fixtures.Indexed("large", $"{name}/spec");
        var inputs = new Tensor[specs.Count];
        for (var i = 0; i < specs.Count; i++)
        {
            var s = specs[i].ToArray();
            var shape = Fixtures.Get("large", $"{name}/shape/{i}").ToInt32Array();
            inputs[i] = s[0] == 0
                ? Hashed(shape, (int)s[1], s[2], s[3]).WithGrad()
                : HashedInts(shape, (int)s[1], (int)s[2], (int)s[3]);
        }
        return inputs;
    }

    /// <summary>32-bit hashes of 0..n-1, the same multiply-xorshift mix as hashed_bits in the Python script.</summary>
    public static uint[] HashedBits(int n, int seed)
    {
        var bits = new uint[n];
        var start = unchecked((uint)seed * 0x85EBCA77u + 1u);
        for (var i = 0; i < n; i++)
        {
            var h = unchecked((uint)i * 0x9E3779B1u + start);
            h ^= h >> 15;
            h = unchecked(h * 0x2C1B3C6Du);
            h ^= h >> 12;
            h = unchecked(h * 0x297A2D39u);
            h ^= h >> 15;
            bits[i] = h;
        }
        return bits;
    }

    /// <summary>low + width·u with u = (h >> 8) / 2^24: exact in float32 when width is a power of two.</summary>
    public static Tensor Hashed(int[] shape, int seed, double low, double width)
    {
        var n = shape.Aggregate(1, (a, b) => a * b);
        var values = HashedBits(n, seed).Select(h => (float)(low + width * ((h >> 8) / 16777216.0))).ToArray();
        return Tensor.FromArray(values, shape);
    }

    static Tensor HashedInts(int[] shape, int seed, int modulus, int ignoreEvery)
    {
        var n = shape.Aggregate(1, (a, b) => a * b);
        var values = HashedBits(n, seed).Select((h, i) => ignoreEvery > 0 && i % ignoreEvery == 0 ? -100 : (int)(h % (uint)modulus))
            .ToArray();
        return Tensor.FromArray(values, shape);
    }
}
