using LlmCourse.Alignment;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Alignment;

public sealed class LoraTests
{
    static Tensor Random(Generator g, params int[] shape) => Tensor.Randn(shape, g);

    /// <summary>Sets an adapter's A or B in place (the tensors stay the ones the layer uses).</summary>
    static void Set(LoraAdapter adapter, string name, Tensor value) =>
        adapter.LoadStateDict(new Dictionary<string, Tensor> { [name] = value }, strict: false);

    [Fact]
    public void Adapter_WithZeroB_LeavesTheLayerUnchanged()
    {
        var g = new Generator(1);
        var layer = new Linear(6, 5, bias: true, g);
        var x = Random(g, 3, 6);
        var before = layer.Forward(x).ToArray();
        var adapter = new LoraAdapter(layer, rank: 2, alpha: 4, g);
        Assert.All(adapter.B.ToArray(), b => Assert.Equal(0f, b));
        Assert.Equal(before, layer.Forward(x).ToArray());
    }

    [Fact]
    public void AdapterAtRankR_EqualsTheMergedDenseLayer_AndMatchesTheFormulaByHand()
    {
        var g = new Generator(2);
        var layer = new Linear(6, 5, bias: true, g);
        var adapter = new LoraAdapter(layer, rank: 3, alpha: 6, g);
        Set(adapter, "B", Random(g, 5, 3));                      // a trained-looking B
        var x = Random(g, 4, 6);
        var adapted = layer.Forward(x).ToArray();

        // By hand, in double: y = x Wᵀ + b + (α/r) x Aᵀ Bᵀ.
        double[] W = [.. layer.Weight.ToArray().Select(v => (double)v)], b = [.. layer.Bias!.ToArray().Select(v => (double)v)];
        double[] A = [.. adapter.A.ToArray().Select(v => (double)v)], B = [.. adapter.B.ToArray().Select(v => (double)v)];
        var xs = x.ToArray();
        for (var n = 0; n < 4; n++)
            for (var o = 0; o < 5; o++)
            {
                var y = b[o];
                for (var i = 0; i < 6; i++)
                {
                    var delta = 0.0;
                    for (var r = 0; r < 3; r++) delta += B[o * 3 + r] * A[r * 6 + i];
                    y += xs[n * 6 + i] * (W[o * 6 + i] + 2.0 * delta);   // α/r = 6/3
                }
                Assert.Equal(y, adapted[n * 5 + o], 4);
            }

        // ΔW has rank at most r, and merging gives the same outputs with no adapter.
        adapter.Merge();
        Assert.Null(layer.Adapter);
        var merged = layer.Forward(x).ToArray();
        for (var i = 0; i < adapted.Length; i++) Assert.Equal(adapted[i], merged[i], 4);
    }

    [Fact]
    public void AdapterGradients_MatchFiniteDifferences()
    {
        var g = new Generator(3);
        var layer = new Linear(5, 4, bias: false, g);
        var adapter = new LoraAdapter(layer, rank: 2, alpha: 3, g);
        Set(adapter, "B", Random(g, 4, 2));
        var x = Random(g, 3, 5);
        var projection = Random(g, 3, 4);
        double Loss() { using var noGrad = Autograd.NoGrad(); return (layer.Forward(x) * projection).Sum().Item(); }

        (layer.Forward(x) * projection).Sum().Backward();
        foreach (var (name, p) in new[] { ("A", adapter.A), ("B", adapter.B) })
        {
            var analytic = p.Grad!.ToArray();
            var values = p.ToArray();
            for (var j = 0; j < values.Length; j++)
            {
                // The loss is linear in A (and in B) alone, so a central difference is exact but for rounding.
                const float h = 0.05f;
                var moved = (float[])values.Clone();
                moved[j] = values[j] + h; Set(adapter, name, Tensor.FromArray(moved, p.Shape));
                var plus = Loss();
                moved[j] = values[j] - h; Set(adapter, name, Tensor.FromArray(moved, p.Shape));
                var minus = Loss();
                Set(adapter, name, Tensor.FromArray(values, p.Shape));
                Assert.Equal((plus - minus) / (2 * h), analytic[j], 2);
            }
        }
    }

    [Fact]
    public void LoraOnAGpt_FreezesTheBase_StartsUnchanged_AndMergesToTheSameOutputs()
    {
        var chars = new CharTokenizer("abcdefgh");
        var gpt = new Gpt(new GptConfig(chars.VocabSize, BlockSize: 8, Layers: 2, Heads: 2, Embedding: 16), chars, new Generator(4));
        var tokens = Tensor.FromArray([0, 3, 2, 7, 1, 4], 1, 6);
        float[] Logits() { using var inference = gpt.Inference(); return gpt.Forward(tokens).ToArray(); }
        var before = Logits();

        var lora = Lora.Apply(gpt, rank: 2, alpha: 4, seed: 5);
        Assert.Equal(2 * 4, lora.Adapters.Count);                            // four projections in each of two blocks
        Assert.All(gpt.Parameters(), p => Assert.False(p.RequiresGrad));
        // Rank-r adapters train r·(in + out) numbers per layer: c_attn 16→48, c_proj 16→16, c_fc 16→64, c_proj 64→16.
        Assert.Equal(2 * 2 * ((16 + 48) + (16 + 16) + (16 + 64) + (64 + 16)), lora.ParameterCount());
        Assert.Equal(before, Logits());

        foreach (var adapter in lora.Adapters) Set(adapter, "B", Tensor.Randn([adapter.B.Size(0), adapter.B.Size(1)], new Generator(6)) * 0.1f);
        var adapted = Logits();
        Assert.NotEqual(before, adapted);
        lora.Merge();
        Assert.All(gpt.Parameters(), p => Assert.True(p.RequiresGrad));
        var merged = Logits();
        for (var i = 0; i < merged.Length; i++) Assert.Equal(adapted[i], merged[i], 4);
    }

    [Fact]
    public void LoraWithTheEmbedding_TrainsTheTokenEmbeddingAndNothingElseOfTheBase()
    {
        var chars = new CharTokenizer("abcdefgh");
        var gpt = new Gpt(new GptConfig(chars.VocabSize, BlockSize: 8, Layers: 1, Heads: 2, Embedding: 16), chars, new Generator(4));
        var lora = Lora.Apply(gpt, rank: 2, alpha: 4, seed: 5, trainEmbedding: true);
        var trainable = gpt.NamedParameters().Where(p => p.Parameter.RequiresGrad).Select(p => p.Name).ToArray();
        Assert.Equal(["wte.weight"], trainable);
        var embedding = gpt.NamedParameters().Single(p => p.Name == "wte.weight").Parameter;
        Assert.Contains(lora.Trainable, t => ReferenceEquals(t, embedding));
        Assert.Equal(lora.ParameterCount() + embedding.Count, lora.Trainable.Sum(t => t.Count));
    }

    [Fact]
    public void Adapter_RefusesABadRankOrASecondAdapter_WithClearErrors()
    {
        var layer = new Linear(6, 4, bias: false, new Generator(8));
        var rank = Assert.Throws<ArgumentOutOfRangeException>(() => new LoraAdapter(layer, rank: 5, alpha: 1));
        Assert.Contains("between 1 and min(in, out) = 4", rank.Message);
        var adapter = new LoraAdapter(layer, rank: 2, alpha: 1);
        Assert.Throws<InvalidOperationException>(() => new LoraAdapter(layer, rank: 2, alpha: 1));
        adapter.Merge();
        Assert.Throws<InvalidOperationException>(() => adapter.Merge());
    }
}
