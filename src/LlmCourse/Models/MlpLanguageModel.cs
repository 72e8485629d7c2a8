using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;
using LlmCourse.Tokenizers;
using F = LlmCourse.Tensors.Functional;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Models;

// Letters: B batch, T positions, N context length (tokens the model sees), E embedding size,
// H hidden size, V vocabulary size.

[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record MlpConfig(int VocabSize, int Context = 8, int Embedding = 24, int Hidden = 256, int BlockSize = 64);

/// <summary>
/// The neural probabilistic language model of Bengio, Ducharme, Vincent and Jauvin (2003): the
/// last N tokens are looked up in a shared embedding table, their vectors concatenated, passed
/// through a tanh hidden layer, and read out as logits over the vocabulary. An n-gram model with
/// n = N + 1 whose contexts share statistical strength through their embeddings, instead of being
/// counted apart. Positions before the start of a text see a padding token.
/// </summary>
public sealed class MlpLanguageModel : Module, INeuralLanguageModel
{
    readonly Embedding embedding;   // (V + 1) × E: the extra row is the padding token
    readonly Linear hidden, output;

    public MlpLanguageModel(MlpConfig config, ITokenizer tokenizer, Generator? generator = null, string? name = null)
    {
        if (tokenizer.VocabSize != config.VocabSize)
            throw new ArgumentException($"MlpLanguageModel: the tokenizer has {tokenizer.VocabSize} tokens but the config says {config.VocabSize}.");
        if (config.Context < 1) throw new ArgumentOutOfRangeException(nameof(config), config.Context, "MlpLanguageModel: the context needs at least one token.");
        Config = config;
        Tokenizer = tokenizer;
        Name = name ?? $"MLP ({config.Context} chars)";
        generator ??= new Generator(1337);
        embedding = Register("embedding", new Embedding(config.VocabSize + 1, config.Embedding, generator));
        hidden = Register("hidden", new Linear(config.Context * config.Embedding, config.Hidden, generator: generator));
        output = Register("output", new Linear(config.Hidden, config.VocabSize, generator: generator));
    }

    public MlpConfig Config { get; }
    public string Name { get; }
    public ITokenizer Tokenizer { get; }
    public int ContextLength => Config.BlockSize;
    Module INeuralLanguageModel.Module => this;
    int Padding => Config.VocabSize;

    /// <summary>Logits (B, T, V): position t sees tokens t−N+1 … t of its row (padding before the row starts).</summary>
    public Tensor Logits(Tensor tokens)
    {
        TokenIds.Check(tokens, Config.VocabSize, Name);   // VocabSize itself is the padding id: not for callers
        var (B, T, N) = (tokens.Size(0), tokens.Size(1), Config.Context);
        // Prepend N − 1 padding tokens to every row, so every position has N tokens of context.
        var ids = tokens.ToInt32Array();
        var padded = new int[B * (N - 1 + T)];
        for (var b = 0; b < B; b++)
        {
            Array.Fill(padded, Padding, b * (N - 1 + T), N - 1);
            Array.Copy(ids, b * T, padded, b * (N - 1 + T) + N - 1, T);
        }
        var e = embedding.Forward(Tensor.FromArray(padded, B, N - 1 + T));   // (B, N−1+T, E)
        // The context of position t is padded positions t … t+N−1: N shifted views, side by side.
        var context = Tensor.Cat(Enumerable.Range(0, N).Select(j => e.Slice(1, j, j + T)).ToArray(), dim: 2);   // (B, T, N·E)
        return output.Forward(hidden.Forward(context).Tanh());              // (B, T, V)
    }

    public Tensor Loss(Tensor inputs, Tensor targets)
    {
        TokenIds.CheckTargets(targets, Config.VocabSize, Name);
        var logits = Logits(inputs);                                        // (B, T, V)
        var (B, T, V) = (logits.Size(0), logits.Size(1), logits.Size(2));
        return F.CrossEntropy(logits.View(B * T, V), targets.View(B * T));  // (B·T, V) against (B·T)
    }

    /// <summary>Every prediction sees its full N tokens of context (or the text's start).</summary>
    public (double Nats, int Predictions) NegativeLogLikelihood(int[] tokens) =>
        SequenceScoring.Windows(this, tokens, Config.BlockSize, warmup: Config.Context - 1);

    public string Generate(string prompt, int maxNewTokens, Sampling? sampling = null, int seed = 0)
    {
        sampling ??= Sampling.Default;
        var random = new Random(seed);
        var tokens = new List<int>(prompt.Length == 0 ? [0] : Tokenizer.Encode(prompt));
        using var inference = Inference();
        for (var step = 0; step < maxNewTokens; step++)
        {
            // With a short prompt the row starts with padding, as at the start of a text.
            var window = tokens.Skip(Math.Max(0, tokens.Count - Config.Context)).ToArray();
            var logits = Logits(Tensor.FromArray(window, 1, window.Length));   // (1, T, V)
            tokens.Add(sampling.Sample(logits.Select(1, window.Length - 1).Select(0, 0).ToArray(), random));
        }
        return Tokenizer.Decode(tokens);
    }
}
