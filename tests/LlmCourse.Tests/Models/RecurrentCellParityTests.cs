using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;

namespace LlmCourse.Tests.Models;

/// <summary>
/// RNNCell, LSTMCell and GRUCell against PyTorch's, on the same weights: a 4-step unroll, its
/// outputs, and the gradients of a weighted sum of them with respect to the inputs, the initial
/// state and every parameter. Tolerance 1e-5 absolute + 1e-4 relative: float32 sums of at most
/// a few dozen products, done in a different order from PyTorch's.
/// </summary>
[Trait("Category", "Parity")]
public sealed class RecurrentCellParityTests
{
    const double Atol = 1e-5, Rtol = 1e-4;
    static readonly Dictionary<string, Tensor> Fixture = ParityFixtures.Load("recurrent_cells.safetensors");

    static Tensor Leaf(string name) => Fixture[name].Detach().Contiguous().WithGrad();

    [Theory]
    [InlineData("rnn")]
    [InlineData("lstm")]
    [InlineData("gru")]
    public void Unroll_MatchesPyTorch_OutputsAndGradients(string kind)
    {
        var (_, b, i) = (Fixture[$"{kind}.x"].Size(0), Fixture[$"{kind}.x"].Size(1), Fixture[$"{kind}.x"].Size(2));
        var hidden = Fixture[$"{kind}.h0"].Size(1);
        RecurrentCellBase cell = kind switch
        {
            "rnn" => new RNNCell(i, hidden),
            "lstm" => new LSTMCell(i, hidden),
            _ => new GRUCell(i, hidden),
        };
        cell.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["weight_ih"] = Fixture[$"{kind}.weight_ih"], ["weight_hh"] = Fixture[$"{kind}.weight_hh"],
            ["bias_ih"] = Fixture[$"{kind}.bias_ih"], ["bias_hh"] = Fixture[$"{kind}.bias_hh"],
        });
        var x = Leaf($"{kind}.x");
        var h0 = Leaf($"{kind}.h0");
        var c0 = kind == "lstm" ? Leaf("lstm.c0") : null;
        var weights = Fixture[$"{kind}.weights"];

        var h = h0;
        var c = c0;
        var outputs = new List<Tensor>();
        var cells = new List<Tensor>();
        for (var t = 0; t < x.Size(0); t++)
        {
            switch (cell)
            {
                case LSTMCell lstm: (h, c) = lstm.Forward(x.Select(0, t), (h, c!)); cells.Add(c); break;
                case GRUCell gru: h = gru.Forward(x.Select(0, t), h); break;
                case RNNCell rnn: h = rnn.Forward(x.Select(0, t), h); break;
            }
            outputs.Add(h);
        }
        var hs = Tensor.Stack(outputs);
        var loss = (hs * weights).Sum();
        if (kind == "lstm")
        {
            var flipped = Tensor.Stack(Enumerable.Range(0, weights.Size(0)).Reverse().Select(t => weights.Select(0, t)).ToArray());
            loss = loss + (Tensor.Stack(cells) * flipped).Sum();
        }
        loss.Backward();

        ParityFixtures.AssertClose(Fixture[$"{kind}.outputs"], hs, $"{kind} outputs", Atol, Rtol);
        ParityFixtures.AssertClose(Fixture[$"{kind}.loss"], loss.Reshape(1), $"{kind} loss", 1e-4, Rtol);
        if (kind == "lstm") ParityFixtures.AssertClose(Fixture["lstm.cells"], Tensor.Stack(cells), "lstm cell states", Atol, Rtol);
        ParityFixtures.AssertClose(Fixture[$"{kind}.grad.x"], x.Grad!, $"{kind} ∂loss/∂x", Atol, Rtol);
        ParityFixtures.AssertClose(Fixture[$"{kind}.grad.h0"], h0.Grad!, $"{kind} ∂loss/∂h0", Atol, Rtol);
        if (c0 is not null) ParityFixtures.AssertClose(Fixture["lstm.grad.c0"], c0.Grad!, "lstm ∂loss/∂c0", Atol, Rtol);
        foreach (var (name, parameter) in cell.NamedParameters())
            ParityFixtures.AssertClose(Fixture[$"{kind}.grad.{name}"], parameter.Grad!, $"{kind} ∂loss/∂{name}", Atol, Rtol);
    }

    [Fact]
    public void Layout_IsPyTorchs()
    {
        var lstm = new LSTMCell(5, 7);
        Assert.Equal(["weight_ih", "weight_hh", "bias_ih", "bias_hh"], lstm.NamedParameters().Select(p => p.Name));
        Assert.Equal([28, 5], lstm.WeightIh.Shape);
        Assert.Equal([21, 7], new GRUCell(5, 7).WeightHh.Shape);
        Assert.Equal([7], new RNNCell(5, 7).BiasIh!.Shape);
        Assert.Equal(["weight_ih", "weight_hh"], new GRUCell(5, 7, bias: false).NamedParameters().Select(p => p.Name));
        var e = Assert.ThrowsAny<ArgumentException>(() => lstm.Forward(Tensor.Zeros(3, 5), (Tensor.Zeros(2, 7), Tensor.Zeros(3, 7))));
        Assert.Contains("LSTMCell", e.Message);
        Assert.Contains("[2,7]", e.Message);
    }
}
