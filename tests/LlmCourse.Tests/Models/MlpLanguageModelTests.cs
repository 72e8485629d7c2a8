using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Models;

public sealed class MlpLanguageModelTests
{
    static readonly CharTokenizer Letters = new("abcdefghijklm");

    static MlpLanguageModel Model() => new(new MlpConfig(13, Context: 3, Embedding: 4, Hidden: 16, BlockSize: 8), Letters, new Generator(2));

    [Fact]
    public void EachPosition_SeesExactlyItsLastNTokens()
    {
        var model = Model();
        int[] a = [1, 2, 3, 4, 5, 6, 7, 8];
        using var noGrad = Autograd.NoGrad();
        var logits = model.Logits(Tensor.FromArray(a, 1, 8));
        // Changing token 2 changes the predictions at positions 2, 3, 4 (context 3) and no others.
        var b = (int[])a.Clone();
        b[2] = 12;
        var changed = model.Logits(Tensor.FromArray(b, 1, 8));
        for (var t = 0; t < 8; t++)
        {
            var same = logits.Select(1, t).ToArray().SequenceEqual(changed.Select(1, t).ToArray());
            Assert.True(same == t is < 2 or > 4, $"position {t}: {(same ? "unchanged" : "changed")}");
        }
    }

    [Fact]
    public void NegativeLogLikelihood_GivesEveryPredictionItsFullContext()
    {
        var model = Model();
        var tokens = Enumerable.Range(0, 20).Select(i => i * 4 % 13).ToArray();
        var (nats, predictions) = model.NegativeLogLikelihood(tokens);
        // One window over the whole text gives every position its full context: the same sum.
        using var noGrad = Autograd.NoGrad();
        var whole = model.Loss(Tensor.FromArray(tokens[..19], 1, 19), Tensor.FromArray(tokens[1..], 1, 19)).Item();
        Assert.Equal(19, predictions);
        Assert.Equal(whole * 19, nats, 3);
    }
}
