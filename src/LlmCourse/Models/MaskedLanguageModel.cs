using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;
using LlmCourse.Tokenizers;
using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Models;

/// <summary>
/// An encoder-only language model trained by masking, as BERT (Devlin et al. 2018), on the blocks of
/// <see cref="Gpt"/> with bidirectional attention (<see cref="GptConfig.Causal"/> = false): a fraction
/// of the positions (15%) is replaced by a mask token and the model predicts the original token there,
/// from the text on both sides. Simpler than BERT: every chosen position becomes the mask token (no
/// 10% random / 10% unchanged), and there is no next-sentence task.
/// </summary>
/// <remarks>
/// It plugs into the <see cref="Training.Trainer"/>: <see cref="Loss"/> ignores the trainer's
/// next-token targets and masks the inputs itself, drawing the positions from
/// <see cref="Generator.Default"/>, which the trainer reseeds before every step, so a run is repeatable.
/// </remarks>
public sealed class MaskedLanguageModel : Module, INeuralLanguageModel
{
    public MaskedLanguageModel(GptConfig config, ITokenizer tokenizer, int maskToken, float maskRate = 0.15f,
        Generator? generator = null, string? name = null)
    {
        if (config.Causal)
            throw new ArgumentException("MaskedLanguageModel: the encoder must see both sides of a blank; pass a GptConfig with Causal: false.", nameof(config));
        if (maskToken < 0 || maskToken >= config.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(maskToken), maskToken,
                $"MaskedLanguageModel: the mask token must be one of the tokenizer's {config.VocabSize} ids; add a character the text never uses to the tokenizer.");
        if (maskRate is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(maskRate), maskRate, "MaskedLanguageModel: the mask rate must be in (0, 1), BERT's is 0.15.");
        Encoder = Register("encoder", new Gpt(config, tokenizer, generator, name ?? $"masked LM {config.Layers}×{config.Embedding}"));
        MaskToken = maskToken;
        MaskRate = maskRate;
    }

    /// <summary>The bidirectional transformer: token and position embeddings, blocks, tied output layer.</summary>
    public Gpt Encoder { get; }
    public int MaskToken { get; }
    public float MaskRate { get; }
    public string Name => Encoder.Name;
    public ITokenizer Tokenizer => Encoder.Tokenizer;
    public int ContextLength => Encoder.ContextLength;
    Module INeuralLanguageModel.Module => this;

    /// <summary>Logits for the token <b>at</b> each position (not the next one): tokens (B, T) → (B, T, V).</summary>
    public Tensor Logits(Tensor inputs) => Encoder.Forward(inputs);

    /// <summary>
    /// Chooses each position with probability <see cref="MaskRate"/> (at least one per row), and returns the
    /// inputs with those positions replaced by the mask token, and targets holding the original token there
    /// and cross-entropy's ignore index (−100) everywhere else. tokens (B, T) Int32.
    /// </summary>
    public (Tensor Inputs, Tensor Targets) Mask(Tensor tokens, Generator? generator = null)
    {
        TokenIds.Check(tokens, Encoder.Config.VocabSize, Name);
        var (B, T) = (tokens.Size(0), tokens.Size(1));
        var ids = tokens.ToInt32Array();
        var draws = Tensor.Rand([B, T], generator ?? Generator.Default).ToArray();
        var inputs = (int[])ids.Clone();
        var targets = Enumerable.Repeat(-100, ids.Length).ToArray();
        for (var b = 0; b < B; b++)
        {
            var any = false;
            for (var t = 0; t < T; t++)
            {
                if (draws[b * T + t] >= MaskRate) continue;
                Hide(b * T + t);
                any = true;
            }
            // A row with no blank teaches nothing and would make its loss undefined: hide its likeliest draw.
            if (!any) Hide(Array.IndexOf(draws, draws.Skip(b * T).Take(T).Min(), b * T));
        }
        return (Tensor.FromArray(inputs, B, T), Tensor.FromArray(targets, B, T));

        void Hide(int i)
        {
            targets[i] = ids[i];
            inputs[i] = MaskToken;
        }
    }

    /// <summary>Cross-entropy of the hidden tokens only, with fresh blanks in <paramref name="inputs"/> (B, T);
    /// <paramref name="targets"/> (the next tokens, as the trainer gives them) are not used.</summary>
    public Tensor Loss(Tensor inputs, Tensor targets)
    {
        _ = targets;
        var (masked, hidden) = Mask(inputs);
        var logits = Logits(masked);                                                   // (B, T, V)
        var (B, T, V) = (logits.Size(0), logits.Size(1), logits.Size(2));
        return F.CrossEntropy(logits.View(B * T, V), hidden.View(B * T));                // −100 ignored
    }

    /// <summary>The probabilities of each token at <paramref name="position"/> of <paramref name="window"/>,
    /// with that position hidden behind the mask token (its own value is never looked at).</summary>
    public float[] FillBlank(int[] window, int position)
    {
        if (position < 0 || position >= window.Length)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"MaskedLanguageModel.FillBlank: the blank must be inside the window of {window.Length} tokens.");
        using var inference = Inference();
        var input = (int[])window.Clone();
        input[position] = MaskToken;
        var logits = Logits(Tensor.FromArray(input, 1, input.Length));                  // (1, T, V)
        return logits.Select(1, position).Select(0, 0).Softmax(-1).ToArray();          // (V)
    }

    /// <summary>
    /// A masked model does not score a text left to right: it was trained to see both sides. Read one token at a
    /// time by putting the blank at the end (see <see cref="Generate"/>), or compare it on filling blanks.
    /// </summary>
    public (double Nats, int Predictions) NegativeLogLikelihood(int[] tokens) =>
        throw new NotSupportedException($"{Name}: a masked language model predicts blanks from both sides, not the next token; " +
                                        "score it with FillBlank, or train a causal Gpt for next-token probabilities.");

    /// <summary>
    /// Left-to-right generation the only way a masked model can: append a blank, fill it, repeat. Every step
    /// runs the whole window again (no KV cache: a new token changes what every earlier position attends to),
    /// and a blank with nothing on its right is a case the model rarely trained on.
    /// </summary>
    public string Generate(string prompt, int maxNewTokens, Sampling? sampling = null, int seed = 0)
    {
        sampling ??= Sampling.Default;
        var random = new Random(seed);
        var tokens = new List<int>(Tokenizer.Encode(prompt));
        for (var step = 0; step < maxNewTokens; step++)
        {
            var window = tokens.Skip(Math.Max(0, tokens.Count - ContextLength + 1)).Append(MaskToken).ToArray();
            var probabilities = FillBlank(window, window.Length - 1);
            var logits = probabilities.Select(p => MathF.Log(Math.Max(p, 1e-30f))).ToArray();
            tokens.Add(sampling.Sample(logits, random));
        }
        return Tokenizer.Decode(tokens.ToArray());
    }
}
