using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Models;

/// <summary>The encoder variant of the GPT blocks (Causal = false) and the masked language model built on it.</summary>
public sealed class MaskedLanguageModelTests
{
    static readonly CharTokenizer Letters = new("abcdefghijklm");   // 13 ids; 'm' (12) serves as the mask
    const int Mask = 12;

    static GptConfig Config(bool causal) => new(VocabSize: 13, BlockSize: 16, Layers: 2, Heads: 2, Embedding: 16, Causal: causal);

    [Fact]
    public void Encoder_SeesTheFuture_TheCausalModelDoesNot()
    {
        int[] a = [1, 2, 3, 4, 5, 6], b = [1, 2, 3, 4, 5, 0];   // differ only at the last position
        foreach (var causal in new[] { true, false })
        {
            var model = new Gpt(Config(causal), Letters, new Generator(3));
            using var noGrad = Autograd.NoGrad();
            var first = model.Forward(Tensor.FromArray(a, 1, 6)).Select(1, 0).ToArray();
            var second = model.Forward(Tensor.FromArray(b, 1, 6)).Select(1, 0).ToArray();
            var difference = first.Zip(second, (x, y) => Math.Abs(x - y)).Max();
            if (causal) Assert.Equal(0f, difference);        // position 0 cannot see position 5
            else Assert.True(difference > 1e-4f, $"the encoder's first position ignored the last token (difference {difference})");
        }
    }

    [Fact]
    public void AConfigSavedBeforeCausalExisted_LoadsAsCausal()
    {
        // Checkpoints (BaseModel, ChatModel) store the config as JSON; those written before the flag must stay GPTs.
        var old = System.Text.Json.JsonSerializer.Deserialize<GptConfig>(
            """{"VocabSize":65,"BlockSize":64,"Layers":2,"Heads":4,"Embedding":128,"Dropout":0,"Bias":false}""")!;
        Assert.True(old.Causal);
        var encoder = System.Text.Json.JsonSerializer.Deserialize<GptConfig>(System.Text.Json.JsonSerializer.Serialize(Config(causal: false)))!;
        Assert.False(encoder.Causal);
    }

    [Fact]
    public void Encoder_AttentionWeights_AreAFullSoftmax_TheCausalOnesAreLowerTriangular()
    {
        var x = Tensor.Randn([1, 5, 16], new Generator(4));
        foreach (var causal in new[] { true, false })
        {
            var block = new Gpt(Config(causal), Letters, new Generator(5)).Blocks[0];
            var w = block.AttentionWeights(x).ToArray();   // (1, 2, 5, 5)
            for (var row = 0; row < 10; row++)
            {
                Assert.Equal(1.0, w.Skip(row * 5).Take(5).Sum(v => (double)v), 5);
                var i = row % 5;
                for (var j = i + 1; j < 5; j++)
                    if (causal) Assert.Equal(0f, w[row * 5 + j]);
                    else Assert.True(w[row * 5 + j] > 0f);
            }
        }
    }

    [Fact]
    public void BidirectionalAttention_WithoutPositions_IsPermutationEquivariant_CausalIsNot()
    {
        // A block sees no positions: permuting its input rows permutes its output rows the same way, unless
        // the mask (which is tied to the order) is on.
        var x = Tensor.Randn([1, 6, 16], new Generator(6));
        int[] order = [3, 0, 5, 1, 4, 2];
        var permuted = Tensor.FromArray(order.SelectMany(i => x.Select(1, i).Select(0, 0).ToArray()).ToArray(), 1, 6, 16);
        foreach (var causal in new[] { true, false })
        {
            var block = new Gpt(Config(causal), Letters, new Generator(7)).Blocks[0];
            using var noGrad = Autograd.NoGrad();
            var y = block.Forward(x);
            var yPermuted = block.Forward(permuted);
            var worst = 0.0;
            for (var t = 0; t < 6; t++)
            {
                var expected = y.Select(1, order[t]).ToArray();
                var actual = yPermuted.Select(1, t).ToArray();
                worst = Math.Max(worst, expected.Zip(actual, (p, q) => Math.Abs((double)p - q)).Max());
            }
            if (causal) Assert.True(worst > 1e-3, $"the causal block was permutation-equivariant (difference {worst})");
            else Assert.True(worst < 1e-5, $"the encoder block was not permutation-equivariant (difference {worst})");
        }
    }

    [Fact]
    public void Mask_HidesAboutTheRate_WithTheMaskToken_AndTargetsOnlyThere()
    {
        var model = new MaskedLanguageModel(Config(causal: false), Letters, Mask, 0.15f, new Generator(8));
        var tokens = Tensor.RandInt(0, 12, [64, 16], new Generator(9));
        var (inputs, targets) = model.Mask(tokens, new Generator(10));
        var (ids, i, t) = (tokens.ToInt32Array(), inputs.ToInt32Array(), targets.ToInt32Array());
        var hidden = 0;
        for (var n = 0; n < ids.Length; n++)
        {
            if (targets.ToInt32Array()[n] == -100) Assert.Equal(ids[n], i[n]);
            else
            {
                hidden++;
                Assert.Equal(Mask, i[n]);
                Assert.Equal(ids[n], t[n]);
            }
        }
        Assert.InRange(hidden / (double)ids.Length, 0.11, 0.19);   // 1024 draws at 0.15: ± 4 standard deviations
    }

    [Fact]
    public void Mask_LeavesAtLeastOneBlankPerRow()
    {
        var model = new MaskedLanguageModel(Config(causal: false), Letters, Mask, 0.01f, new Generator(8));
        var (_, targets) = model.Mask(Tensor.RandInt(0, 12, [50, 4], new Generator(11)), new Generator(12));
        var t = targets.ToInt32Array();
        for (var row = 0; row < 50; row++) Assert.Contains(t.Skip(row * 4).Take(4), v => v != -100);
    }

    [Fact]
    public void Loss_IsTheCrossEntropyOfTheHiddenTokensOnly()
    {
        var model = new MaskedLanguageModel(Config(causal: false), Letters, Mask, 0.3f, new Generator(13));
        var tokens = Tensor.RandInt(0, 12, [4, 10], new Generator(14));
        Generator.Default.Seed(99);
        var (inputs, targets) = model.Mask(tokens);
        Generator.Default.Seed(99);
        var loss = model.Loss(tokens, Tensor.Zeros(4, 10).To(DType.Int32)).Item();

        using var noGrad = Autograd.NoGrad();
        var logits = model.Logits(inputs).ToArray();   // (4, 10, 13)
        var t = targets.ToInt32Array();
        double sum = 0;
        var count = 0;
        for (var n = 0; n < t.Length; n++)
        {
            if (t[n] == -100) continue;
            var row = logits.Skip(n * 13).Take(13).Select(v => (double)v).ToArray();
            var max = row.Max();
            sum += Math.Log(row.Sum(v => Math.Exp(v - max))) + max - row[t[n]];
            count++;
        }
        Assert.True(count > 0);
        Assert.Equal(sum / count, loss, 4);
    }

    [Fact]
    public void FillBlank_NeverLooksAtTheHiddenToken_AndBadInputIsNamed()
    {
        var model = new MaskedLanguageModel(Config(causal: false), Letters, Mask, generator: new Generator(15));
        var p1 = model.FillBlank([1, 2, 3, 4, 5], 2);
        var p2 = model.FillBlank([1, 2, 9, 4, 5], 2);
        Assert.Equal(p1, p2);
        Assert.Equal(1.0, p1.Sum(v => (double)v), 4);
        Assert.Contains("Causal: false", Assert.Throws<ArgumentException>(() => new MaskedLanguageModel(Config(causal: true), Letters, Mask)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MaskedLanguageModel(Config(causal: false), Letters, 13));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.FillBlank([1, 2], 2));
        Assert.Throws<NotSupportedException>(() => model.Evaluate("abcabc"));
    }
}
