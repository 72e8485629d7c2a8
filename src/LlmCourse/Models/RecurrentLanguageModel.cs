using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;
using LlmCourse.Tokenizers;
using F = LlmCourse.Tensors.Functional;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Models;

// Letters: B batch, T time steps, E embedding size, H hidden size, V vocabulary size, L layers.
// A state is one tensor [B, H] per layer (RNN, GRU) or two, h then c, per layer (LSTM).

public enum RecurrentKind { Rnn, Lstm, Gru }

[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record RecurrentConfig(int VocabSize, RecurrentKind Kind = RecurrentKind.Lstm, int Embedding = 64, int Hidden = 256, int Layers = 1, int BlockSize = 64);

/// <summary>
/// A character-level language model with a recurrent core (Elman 1990; Hochreiter and
/// Schmidhuber 1997; Cho et al. 2014): embedding → L stacked cells → linear read-out. Trained by
/// truncated backpropagation through time: gradients flow back at most one window of
/// <see cref="RecurrentConfig.BlockSize"/> steps, while the state itself can be carried from
/// one window to the next (<see cref="LossCarryingState"/>), so the model may remember further back
/// than it is trained to.
/// </summary>
public sealed class RecurrentLanguageModel : Module, IStatefulLanguageModel
{
    readonly Embedding embedding;
    readonly ModuleList<RecurrentCellBase> cells;
    readonly Linear head;
    Tensor[] carried = [];

    public RecurrentLanguageModel(RecurrentConfig config, ITokenizer tokenizer, Generator? generator = null, string? name = null)
    {
        if (tokenizer.VocabSize != config.VocabSize)
            throw new ArgumentException($"RecurrentLanguageModel: the tokenizer has {tokenizer.VocabSize} tokens but the config says {config.VocabSize}.");
        if (config.Layers < 1) throw new ArgumentOutOfRangeException(nameof(config), config.Layers, "RecurrentLanguageModel: at least one layer.");
        Config = config;
        Tokenizer = tokenizer;
        Name = name ?? $"{config.Kind.ToString().ToUpperInvariant()} {config.Hidden}";
        generator ??= new Generator(1337);
        embedding = Register("embedding", new Embedding(config.VocabSize, config.Embedding, generator));
        cells = Register("cells", new ModuleList<RecurrentCellBase>(Enumerable.Range(0, config.Layers).Select(layer =>
        {
            var input = layer == 0 ? config.Embedding : config.Hidden;
            return config.Kind switch
            {
                RecurrentKind.Rnn => (RecurrentCellBase)new RNNCell(input, config.Hidden, generator: generator),
                RecurrentKind.Lstm => new LSTMCell(input, config.Hidden, generator: generator),
                _ => new GRUCell(input, config.Hidden, generator: generator),
            };
        })));
        head = Register("head", new Linear(config.Hidden, config.VocabSize, generator: generator));
    }

    public RecurrentConfig Config { get; }
    public string Name { get; }
    public ITokenizer Tokenizer { get; }
    public int ContextLength => Config.BlockSize;
    Module INeuralLanguageModel.Module => this;

    int StatesPerLayer => Config.Kind == RecurrentKind.Lstm ? 2 : 1;

    /// <summary>Logits (B, T, V) for tokens (B, T), starting from <paramref name="state"/> (zeros when empty),
    /// and the state after the last step. <paramref name="probes"/>, when given, is added to every
    /// layer-top hidden state h_t (one [B, H] per step), so its gradient is ∂loss/∂h_t.</summary>
    public (Tensor Logits, Tensor[] State) Forward(Tensor tokens, Tensor[]? state = null, Tensor[]? probes = null)
    {
        TokenIds.Check(tokens, Config.VocabSize, Name);
        var (B, T) = (tokens.Size(0), tokens.Size(1));
        var H = Config.Hidden;
        state = state is { Length: > 0 } ? state
            : Enumerable.Range(0, Config.Layers * StatesPerLayer).Select(_ => Tensor.Zeros(B, H)).ToArray();
        var next = new Tensor[state.Length];
        // One tensor per time step, from the start: slicing a step out of a [B, T, ·] tensor that
        // needs a gradient would give every step a backward pass as large as the whole sequence.
        var inputs = Enumerable.Range(0, T).Select(t => embedding.Forward(tokens.Select(1, t))).ToArray();   // T × (B, E)
        for (var layer = 0; layer < cells.Count; layer++)
        {
            var cell = cells[layer];
            var outputs = new Tensor[T];
            var h = state[layer * StatesPerLayer];                    // (B, H)
            var c = StatesPerLayer == 2 ? state[layer * 2 + 1] : null;
            for (var t = 0; t < T; t++)
            {
                var gates = cell.InputGates(inputs[t]);               // (B, G·H)
                switch (cell)
                {
                    case LSTMCell lstm: (h, c) = lstm.Step(gates, (h, c!)); break;
                    case GRUCell gru: h = gru.Step(gates, h); break;
                    case RNNCell rnn: h = rnn.Step(gates, h); break;
                }
                if (probes is not null && layer == cells.Count - 1) h = h + probes[t];
                outputs[t] = h;
            }
            next[layer * StatesPerLayer] = h;
            if (c is not null) next[layer * 2 + 1] = c;
            inputs = outputs;                                         // T × (B, H): the next layer's input
        }
        var x = Tensor.Stack(inputs, dim: 1);                         // (B, T, H)
        return (head.Forward(x), next);                               // (B, T, V)
    }

    static Tensor CrossEntropy(Tensor logits, Tensor targets)
    {
        var (B, T, V) = (logits.Size(0), logits.Size(1), logits.Size(2));
        return F.CrossEntropy(logits.View(B * T, V), targets.View(B * T));   // (B·T, V) against (B·T)
    }

    public Tensor Logits(Tensor inputs) => Forward(inputs).Logits;

    /// <summary>Mean cross-entropy of a window, from a zero state.</summary>
    public Tensor Loss(Tensor inputs, Tensor targets)
    {
        TokenIds.CheckTargets(targets, Config.VocabSize, Name);
        return CrossEntropy(Forward(inputs).Logits, targets);
    }

    /// <summary>Mean cross-entropy of a window that continues the previous call's streams; the final
    /// state is kept, detached so the next window's gradients stop here (the truncation).</summary>
    public Tensor LossCarryingState(Tensor inputs, Tensor targets)
    {
        if (carried.Length > 0 && carried[0].Size(0) != inputs.Size(0)) carried = [];
        var (logits, state) = Forward(inputs, carried);
        carried = state.Select(s => s.Detach()).ToArray();
        return CrossEntropy(logits, targets);
    }

    public void ResetState() => carried = [];

    public Tensor[] CarriedState { get => carried; set => carried = value; }

    /// <summary>Scores the text as a few long streams read in parallel (see <see cref="Score"/>), so a
    /// prediction sees the whole stretch of text before it, not just one window.</summary>
    public (double Nats, int Predictions) NegativeLogLikelihood(int[] tokens) =>
        Score(tokens, streams: Math.Clamp((tokens.Length - 1) / (16 * Config.BlockSize), 1, 32));

    /// <summary>
    /// Scores tokens[1..] cut into <paramref name="streams"/> consecutive stretches, read side by side
    /// as one batch with the state carried from window to window: every prediction sees everything
    /// before it in its stretch. One stream reads the whole text as one; more streams run faster
    /// (a batch row per stretch) at the price of a fresh state at the start of each stretch.
    /// </summary>
    public (double Nats, int Predictions) Score(int[] tokens, int streams = 1)
    {
        var predictions = tokens.Length - 1;
        if (predictions <= 0) return (0, 0);
        streams = Math.Clamp(streams, 1, predictions);
        var length = predictions / streams;                           // predictions per stream; the last stream takes the rest
        using var inference = Inference();
        double nats = 0;
        // The streams of equal length as one batch, then the remainder (if any) as a stream of its own.
        nats += ScoreStreams(tokens, Enumerable.Range(0, streams - 1).Select(b => b * length).ToArray(), length);
        var lastStart = (streams - 1) * length;
        nats += ScoreStreams(tokens, [lastStart], predictions - lastStart);
        return (nats, predictions);
    }

    double ScoreStreams(int[] tokens, int[] starts, int length)
    {
        if (starts.Length == 0 || length == 0) return 0;
        double nats = 0;
        Tensor[] state = [];
        for (var s = 0; s < length; s += Config.BlockSize)
        {
            using var scope = TensorScope.Begin();
            var count = Math.Min(Config.BlockSize, length - s);
            var x = new int[starts.Length * count];
            var y = new int[starts.Length * count];
            for (var b = 0; b < starts.Length; b++)
            {
                Array.Copy(tokens, starts[b] + s, x, b * count, count);
                Array.Copy(tokens, starts[b] + s + 1, y, b * count, count);
            }
            (var logits, state) = Forward(Tensor.FromArray(x, starts.Length, count), state);   // (B, T, V)
            nats += CrossEntropy(logits, Tensor.FromArray(y, starts.Length, count)).Item() * (double)(starts.Length * count);
            foreach (var t in state) scope.Keep(t);
        }
        return nats;
    }

    public string Generate(string prompt, int maxNewTokens, Sampling? sampling = null, int seed = 0)
    {
        sampling ??= Sampling.Default;
        var random = new Random(seed);
        var tokens = new List<int>(prompt.Length == 0 ? [0] : Tokenizer.Encode(prompt));
        using var inference = Inference();
        // Read the prompt once, then feed back one sampled token at a time, carrying the state.
        var (logits, state) = Forward(Tensor.FromArray(tokens.ToArray(), 1, tokens.Count));
        for (var step = 0; step < maxNewTokens; step++)
        {
            var last = logits.Select(1, logits.Size(1) - 1).Select(0, 0).ToArray();   // (V)
            tokens.Add(sampling.Sample(last, random));
            (logits, state) = Forward(Tensor.FromArray([tokens[^1]], 1, 1), state);
        }
        return Tokenizer.Decode(tokens);
    }

    /// <summary>
    /// How much the loss at the last step of a window depends on the hidden state t steps before:
    /// ‖∂loss_T / ∂h_t‖ for t = 0 … T−1 (top layer, averaged over nothing: one window per row of
    /// <paramref name="tokens"/>). A vanilla RNN's norms shrink geometrically going back in time;
    /// an LSTM's cell state lets them survive.
    /// </summary>
    public double[] HiddenGradientNorms(Tensor inputs, Tensor targets)
    {
        var (B, T) = (inputs.Size(0), inputs.Size(1));
        var probes = Enumerable.Range(0, T).Select(_ => Tensor.Zeros(B, Config.Hidden).WithGrad()).ToArray();
        var (logits, _) = Forward(inputs, probes: probes);
        var lastLogits = logits.Select(1, T - 1);                      // (B, V)
        var loss = F.CrossEntropy(lastLogits, targets.Select(1, T - 1));
        loss.Backward();
        var norms = probes.Select(p => (double)(p.Grad?.Norm().Item() ?? 0f)).ToArray();
        ZeroGrad();
        return norms;
    }
}
