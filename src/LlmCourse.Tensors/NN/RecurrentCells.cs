namespace LlmCourse.Tensors.NN;

// Recurrent cells with PyTorch's parameter layout and names, so weights move between the two
// unchanged: weight_ih [G·H, I], weight_hh [G·H, H], bias_ih [G·H], bias_hh [G·H], where G is the
// number of gate blocks stacked along the first dimension (RNN 1; LSTM 4 in the order i, f, g, o;
// GRU 3 in the order r, z, n). Letters: B batch, I input size, H hidden size. Each cell is
// a composition of engine ops, so autograd needs no backward of its own here.
//
// Every cell also offers Step(inputGates, state), which takes x·W_ihᵀ + b_ih precomputed: a
// language model projects the whole sequence [B, T, I] in one matrix multiply and then runs only
// the recurrent h·W_hhᵀ inside its loop over time.

/// <summary>The parameters and initialisation the three cells share: U(−1/√H, 1/√H), as PyTorch.</summary>
public abstract class RecurrentCellBase : Module
{
    protected RecurrentCellBase(int inputSize, int hiddenSize, int gates, bool bias, Generator? generator, string cell)
    {
        if (inputSize <= 0 || hiddenSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(hiddenSize), $"{cell}: input size {inputSize} and hidden size {hiddenSize} must be positive.");
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        CellName = cell;
        var bound = 1f / MathF.Sqrt(hiddenSize);
        WeightIh = RegisterParameter("weight_ih", Init.Uniform(Tensor.Empty(gates * hiddenSize, inputSize), -bound, bound, generator));
        WeightHh = RegisterParameter("weight_hh", Init.Uniform(Tensor.Empty(gates * hiddenSize, hiddenSize), -bound, bound, generator));
        if (bias)
        {
            BiasIh = RegisterParameter("bias_ih", Init.Uniform(Tensor.Empty(gates * hiddenSize), -bound, bound, generator));
            BiasHh = RegisterParameter("bias_hh", Init.Uniform(Tensor.Empty(gates * hiddenSize), -bound, bound, generator));
        }
    }

    public int InputSize { get; }
    public int HiddenSize { get; }
    protected string CellName { get; }

    public Tensor WeightIh { get; }
    public Tensor WeightHh { get; }
    public Tensor? BiasIh { get; }
    public Tensor? BiasHh { get; }

    /// <summary>x·W_ihᵀ + b_ih for one step [B, I] or a whole sequence [B, T, I].</summary>
    public Tensor InputGates(Tensor input)
    {
        if (input.Size(-1) != InputSize)
            throw new TensorShapeException($"{CellName}: input [{string.Join(",", input.Shape)}] has {input.Size(-1)} features, expected {InputSize}.");
        return Functional.Linear(input, WeightIh, BiasIh);
    }

    /// <summary>h·W_hhᵀ + b_hh: [B, H] → [B, G·H].</summary>
    protected Tensor HiddenGates(Tensor hidden) => Functional.Linear(hidden, WeightHh, BiasHh);

    protected void CheckHidden(Tensor hidden, Tensor input, string what)
    {
        if (hidden.Rank != 2 || hidden.Size(0) != input.Size(0) || hidden.Size(1) != HiddenSize)
            throw new TensorShapeException(
                $"{CellName}: {what} [{string.Join(",", hidden.Shape)}] does not match input [{string.Join(",", input.Shape)}]; expected [{input.Size(0)},{HiddenSize}].");
    }

    protected Tensor ZeroState(Tensor input) => Tensor.Zeros(input.Size(0), HiddenSize);
}

/// <summary>Elman RNN cell: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh).</summary>
public sealed class RNNCell(int inputSize, int hiddenSize, bool bias = true, Generator? generator = null)
    : RecurrentCellBase(inputSize, hiddenSize, 1, bias, generator, "RNNCell")
{
    /// <summary>input [B, I], hidden [B, H] (zeros when null) → h' [B, H].</summary>
    public Tensor Forward(Tensor input, Tensor? hidden = null)
    {
        hidden ??= ZeroState(input);
        CheckHidden(hidden, input, "hidden");
        return Step(InputGates(input), hidden);
    }

    public Tensor Step(Tensor inputGates, Tensor hidden) => (inputGates + HiddenGates(hidden)).Tanh();
}

/// <summary>
/// LSTM cell (Hochreiter and Schmidhuber 1997, with a forget gate): gates i, f, g, o from
/// x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh; c' = σ(f)⊙c + σ(i)⊙tanh(g); h' = σ(o)⊙tanh(c').
/// The cell state c is carried additively, which is what lets gradients survive many steps.
/// </summary>
public sealed class LSTMCell(int inputSize, int hiddenSize, bool bias = true, Generator? generator = null)
    : RecurrentCellBase(inputSize, hiddenSize, 4, bias, generator, "LSTMCell")
{
    /// <summary>input [B, I], state (h, c) each [B, H] (zeros when null) → (h', c').</summary>
    public (Tensor H, Tensor C) Forward(Tensor input, (Tensor H, Tensor C)? state = null)
    {
        var (h, c) = state ?? (ZeroState(input), ZeroState(input));
        CheckHidden(h, input, "h");
        CheckHidden(c, input, "c");
        return Step(InputGates(input), (h, c));
    }

    public (Tensor H, Tensor C) Step(Tensor inputGates, (Tensor H, Tensor C) state)
    {
        var gates = (inputGates + HiddenGates(state.H)).Chunk(4, dim: 1);   // 4 × [B, H]
        var i = gates[0].Sigmoid();
        var f = gates[1].Sigmoid();
        var g = gates[2].Tanh();
        var o = gates[3].Sigmoid();
        var c = f * state.C + i * g;
        return (o * c.Tanh(), c);
    }
}

/// <summary>
/// GRU cell (Cho et al. 2014), PyTorch's variant: r = σ(·), z = σ(·) from the summed projections;
/// n = tanh(x·W_inᵀ + b_in + r⊙(h·W_hnᵀ + b_hn)); h' = (1 − z)⊙n + z⊙h.
/// </summary>
public sealed class GRUCell(int inputSize, int hiddenSize, bool bias = true, Generator? generator = null)
    : RecurrentCellBase(inputSize, hiddenSize, 3, bias, generator, "GRUCell")
{
    /// <summary>input [B, I], hidden [B, H] (zeros when null) → h' [B, H].</summary>
    public Tensor Forward(Tensor input, Tensor? hidden = null)
    {
        hidden ??= ZeroState(input);
        CheckHidden(hidden, input, "hidden");
        return Step(InputGates(input), hidden);
    }

    public Tensor Step(Tensor inputGates, Tensor hidden)
    {
        var x = inputGates.Chunk(3, dim: 1);              // 3 × [B, H]: r, z, n parts of x·W_ihᵀ + b_ih
        var h = HiddenGates(hidden).Chunk(3, dim: 1);     // 3 × [B, H]: the same of h·W_hhᵀ + b_hh
        var r = (x[0] + h[0]).Sigmoid();
        var z = (x[1] + h[1]).Sigmoid();
        var n = (x[2] + r * h[2]).Tanh();                  // the reset gate scales only the hidden part
        return (1f - z) * n + z * hidden;
    }
}
