using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Models;

public sealed class GptTests
{
    static readonly CharTokenizer Letters = new("abcdefghijklm");

    static Gpt Model(int blockSize = 16, float dropout = 0f, ulong seed = 7) =>
        new(new GptConfig(VocabSize: 13, BlockSize: blockSize, Layers: 2, Heads: 2, Embedding: 16, Dropout: dropout), Letters, new Generator(seed));

    [Theory]
    [InlineData(0f, 0, 1f)]     // greedy
    [InlineData(1f, 0, 1f)]     // plain sampling
    [InlineData(0.8f, 5, 0.9f)] // temperature, top-k and top-p together
    public void KvCache_GeneratesExactlyWhatTheUncachedModelGenerates(float temperature, int topK, float topP)
    {
        var model = Model();
        var sampling = new Sampling(temperature, topK, topP);
        int[] prompt = [1, 4, 2];
        // 30 new tokens run past the block of 16, so the sliding window is exercised too.
        var cached = model.GenerateTokens(prompt, 30, sampling, seed: 3, useKvCache: true);
        var uncached = model.GenerateTokens(prompt, 30, sampling, seed: 3, useKvCache: false);
        Assert.Equal(uncached, cached);
        Assert.Equal(33, cached.Length);
        Assert.Equal(prompt, cached[..3]);
    }

    [Fact]
    public void KvCache_LogitsEqualAFullForward()
    {
        var model = Model();
        int[] tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
        using var noGrad = Autograd.NoGrad();
        var full = model.Forward(Tensor.FromArray(tokens, 1, tokens.Length));                   // (1, T, V)
        var caches = Enumerable.Range(0, 2).Select(_ => new KvCache()).ToArray();
        model.Forward(Tensor.FromArray(tokens[..4], 1, 4), caches);                             // prefill 4 positions
        for (var t = 4; t < tokens.Length; t++)
        {
            var step = model.Forward(Tensor.FromArray([tokens[t]], 1, 1), caches);             // (1, 1, V)
            ParityFixtures.AssertClose(full.Select(1, t), step.Select(1, 0), $"logits at position {t}", 1e-5, 1e-5);
        }
        Assert.Equal(tokens.Length, caches[0].Length);
    }

    [Fact]
    public void Positions_BeyondTheBlock_AreRefused_AndConfigIsChecked()
    {
        var model = Model(blockSize: 8);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros(1, 9).To(DType.Int32)));
        Assert.Contains("block size 8", e.Message);
        Assert.Throws<ArgumentException>(() => new GptConfig(VocabSize: 13, Heads: 3, Embedding: 16).Validate());
        Assert.Throws<ArgumentException>(() => new Gpt(new GptConfig(VocabSize: 12), Letters));
    }

    [Fact]
    public void Dropout_IsActiveInTraining_AndOffInEval()
    {
        var model = Model(dropout: 0.5f);
        var x = Tensor.FromArray([1, 2, 3, 4], 1, 4);
        using var noGrad = Autograd.NoGrad();
        Assert.NotEqual(model.Forward(x).ToArray(), model.Forward(x).ToArray());
        model.Eval();
        Assert.Equal(model.Forward(x).ToArray(), model.Forward(x).ToArray());
    }

    [Fact]
    public void WindowScoring_PredictsEveryTokenOnceInConsecutiveWindows()
    {
        var model = Model(blockSize: 8);
        var tokens = Enumerable.Range(0, 21).Select(i => i * 7 % 13).ToArray();   // 20 predictions: windows of 8, 8 and 4
        var (nats, predictions) = SequenceScoring.Windows(model, tokens, 8);

        double expected = 0;
        using (Autograd.NoGrad())
            foreach (var (start, count) in new[] { (0, 8), (8, 8), (16, 4) })
                expected += model.Loss(Window(tokens, start, count).X, Window(tokens, start, count).Y).Item() * count;
        Assert.Equal(20, predictions);
        Assert.Equal(expected, nats, 3);
    }

    [Fact]
    public void NegativeLogLikelihood_SlidesTheWindow_SoEveryPredictionSeesThreeQuartersOfABlock()
    {
        var model = Model(blockSize: 8);
        var tokens = Enumerable.Range(0, 15).Select(i => i * 5 % 13).ToArray();   // 14 predictions
        var (nats, predictions) = model.NegativeLogLikelihood(tokens);

        // Prediction of token i (1…14) from the window ending at i − 1 that starts max(0, ⌈…⌉): stride 2, warmup 6.
        // Windows: [0,2) and [2,4) alone (context from 0), then [s−6, s+2) for s = 4, 6, …, 12, then [8, 14).
        double expected = 0;
        using (Autograd.NoGrad())
            for (var s = 0; s < 14; s += 2)
            {
                var count = Math.Min(2, 14 - s);
                var context = Math.Min(6, s);
                var (x, y) = Window(tokens, s - context, context + count);
                var logits = model.Forward(x);                                                    // (1, L, V)
                var losses = LlmCourse.Tensors.Functional.CrossEntropy(logits.View(-1, 13), y.View(-1), reduction: Reduction.None).ToArray();
                expected += losses[context..].Sum();
            }
        Assert.Equal(14, predictions);
        Assert.Equal(expected, nats, 3);
    }

    static (Tensor X, Tensor Y) Window(int[] tokens, int start, int count) =>
        (Tensor.FromArray(tokens[start..(start + count)], 1, count), Tensor.FromArray(tokens[(start + 1)..(start + count + 1)], 1, count));

    [Fact]
    public void AttentionWeights_AreCausalDistributions_AndDriveTheForwardPass()
    {
        var model = Model();
        var tokens = Tensor.FromArray([3, 1, 4, 1, 5, 9, 2, 6], 1, 8);
        var weights = model.AttentionWeights(tokens);
        Assert.Equal(2, weights.Length);
        Assert.Equal([1, 2, 8, 8], weights[0].Shape);
        for (var layer = 0; layer < 2; layer++)
        for (var head = 0; head < 2; head++)
        for (var i = 0; i < 8; i++)
        {
            var row = weights[layer].Select(0, 0).Select(0, head).Select(0, i).ToArray();
            Assert.Equal(1.0, row.Sum(), 5);
            Assert.All(row[(i + 1)..], w => Assert.Equal(0f, w));   // nothing from the future
        }

        // The explicit weights times the values give what the fused attention gives: the same block output.
        var block = model.Blocks[0];
        using var noGrad = Autograd.NoGrad();
        model.Eval();
        var x = Tensor.Randn([1, 8, 16], new Generator(3));
        var fused = block.Attention.Forward(x);
        var qkv = LlmCourse.Tensors.Functional.Linear(x, block.Attention.NamedParameters().First(p => p.Name == "c_attn.weight").Parameter).Split(16, dim: 2);
        var v = qkv[2].View(1, 8, 2, 8).Transpose(1, 2);                          // (B, H, T, D)
        var y = block.Attention.AttentionWeights(x).MatMul(v).Transpose(1, 2).Contiguous().View(1, 8, 16);
        var explicitOutput = block.Attention.Projection.Forward(y);
        ParityFixtures.AssertClose(fused, explicitOutput, "explicit attention against the fused call", 1e-5, 1e-5);
    }

    [Fact]
    public void WeightsAreTied_AndNamedLikeNanoGpt()
    {
        var model = Model();
        var names = model.NamedParameters().Select(p => p.Name).ToArray();
        Assert.Contains("wte.weight", names);
        Assert.Contains("h.1.attn.c_attn.weight", names);
        Assert.Contains("h.0.mlp.c_proj.weight", names);
        Assert.DoesNotContain(names, n => n.Contains("lm_head"));   // the output layer is wte itself
        // 13·16 + 16·16 (embeddings) + 2 blocks × (3·16·16 + 16·16 + 16·64 + 64·16 + 2·16 LN gains) + 16 (ln_f)
        Assert.Equal(13 * 16 + 16 * 16 + 2 * (3 * 256 + 256 + 1024 + 1024 + 32) + 16, model.ParameterCount());
    }
}
