using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Models;

public sealed class RecurrentLanguageModelTests
{
    static readonly CharTokenizer Letters = new("abcdefghijklm");

    static RecurrentLanguageModel Model(RecurrentKind kind, int layers = 2, int blockSize = 6) =>
        new(new RecurrentConfig(13, kind, Embedding: 8, Hidden: 12, Layers: layers, BlockSize: blockSize), Letters, new Generator(5));

    static int[] Tokens(int n, int seed = 1) => Enumerable.Range(0, n).Select(i => (i * 5 + seed * 3 + i * i) % 13).ToArray();

    [Theory]
    [InlineData(RecurrentKind.Rnn)]
    [InlineData(RecurrentKind.Lstm)]
    [InlineData(RecurrentKind.Gru)]
    public void CarryingTheState_EqualsOneLongerWindow(RecurrentKind kind)
    {
        var model = Model(kind);
        var tokens = Tokens(13);
        Tensor X(int s, int n) => Tensor.FromArray(tokens[s..(s + n)], 1, n);
        Tensor Y(int s, int n) => Tensor.FromArray(tokens[(s + 1)..(s + n + 1)], 1, n);
        using var noGrad = Autograd.NoGrad();

        var whole = model.Loss(X(0, 12), Y(0, 12)).Item();
        model.ResetState();
        var first = model.LossCarryingState(X(0, 6), Y(0, 6)).Item();
        var second = model.LossCarryingState(X(6, 6), Y(6, 6)).Item();

        Assert.True(Math.Abs(whole - (first + second) / 2) < 1e-5, $"one window {whole}, two carried windows {(first + second) / 2}");
        Assert.Equal(2 * (kind == RecurrentKind.Lstm ? 2 : 1), model.CarriedState.Length);
        // From a zero state the second window scores differently: the carried state matters.
        Assert.NotEqual(second, model.Loss(X(6, 6), Y(6, 6)).Item(), 5);
    }

    [Theory]
    [InlineData(RecurrentKind.Rnn)]
    [InlineData(RecurrentKind.Lstm)]
    [InlineData(RecurrentKind.Gru)]
    public void NegativeLogLikelihood_ReadsTheTextAsOneStream(RecurrentKind kind)
    {
        var model = Model(kind);
        var tokens = Tokens(20);
        var (nats, predictions) = model.NegativeLogLikelihood(tokens);
        using var noGrad = Autograd.NoGrad();
        var whole = model.Loss(Tensor.FromArray(tokens[..19], 1, 19), Tensor.FromArray(tokens[1..], 1, 19)).Item();
        Assert.Equal(19, predictions);
        Assert.Equal(whole * 19, nats, 3);
    }

    [Fact]
    public void Score_InParallelStreams_SumsEachStretchReadOnItsOwn()
    {
        var model = Model(RecurrentKind.Lstm);
        var tokens = Tokens(30);
        // 29 predictions in 3 streams: 9, 9 and 11 (the last takes the rest).
        var (nats, predictions) = model.Score(tokens, streams: 3);
        double expected = 0;
        foreach (var (start, count) in new[] { (0, 9), (9, 9), (18, 11) })
            expected += model.Score(tokens[start..(start + count + 1)], streams: 1).Nats;
        Assert.Equal(29, predictions);
        Assert.Equal(expected, nats, 3);
    }

    [Fact]
    public void VanillaRnn_GradientsVanishGoingBackInTime()
    {
        var model = Model(RecurrentKind.Rnn, layers: 1);
        var tokens = Tokens(41);
        var norms = model.HiddenGradientNorms(Tensor.FromArray(tokens[..40], 1, 40), Tensor.FromArray(tokens[1..], 1, 40));
        Assert.Equal(40, norms.Length);
        Assert.True(norms[^1] > 0);
        // With PyTorch's initialisation the recurrent Jacobian shrinks the gradient at every step back.
        Assert.True(norms[0] < 1e-3 * norms[^1], $"‖∂L/∂h_0‖ = {norms[0]:E2} vs ‖∂L/∂h_39‖ = {norms[^1]:E2}");
        Assert.All(model.Parameters(), p => Assert.Null(p.Grad));   // the probe leaves no gradients behind
    }

    [Fact]
    public void Generate_IsSeeded()
    {
        var model = Model(RecurrentKind.Gru);
        Assert.Equal(model.Generate("abc", 20, seed: 4), model.Generate("abc", 20, seed: 4));
        Assert.Equal(23, model.Generate("abc", 20, seed: 4).Length);
    }
}
