using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;
using LlmCourse.Tokenizers;
using F = LlmCourse.Tensors.Functional;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Models;

// A GPT in one file, after nanoGPT's model.py (Karpathy 2022), itself GPT-2 (Radford et al. 2019):
// token and learned position embeddings, a stack of pre-LayerNorm transformer blocks (causal
// multi-head self-attention, then a GELU MLP, each added back to the residual stream), a final
// LayerNorm, and an output layer that shares its weights with the token embedding.
//
// Letters used in the shape comments:
//   B  batch size                    T  sequence length (at most BlockSize)
//   C  embedding size (Embedding)    H  number of heads      D  head size, C / H
//   V  vocabulary size               P  positions already in the KV cache

/// <summary>The shape of a GPT; the defaults are nanoGPT's CPU run of shakespeare_char.
/// <see cref="Causal"/> = false gives every position all positions to attend to, before and after it:
/// the same blocks as an encoder (BERT's bidirectional attention), for <see cref="MaskedLanguageModel"/>.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record GptConfig(
    int VocabSize,
    int BlockSize = 64,
    int Layers = 4,
    int Heads = 4,
    int Embedding = 128,
    float Dropout = 0f,
    bool Bias = false,
    bool Causal = true)
{
    public int HeadSize => Embedding / Heads;

    public void Validate()
    {
        if (VocabSize < 1 || BlockSize < 1 || Layers < 1 || Heads < 1 || Embedding < 1)
            throw new ArgumentOutOfRangeException(nameof(GptConfig), this, "GptConfig: every size must be positive.");
        if (Embedding % Heads != 0)
            throw new ArgumentException($"GptConfig: the embedding size {Embedding} must divide evenly into {Heads} heads.");
        if (Dropout is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "GptConfig: dropout must be in [0, 1).");
    }
}

/// <summary>The keys and values one attention layer has already computed, so generation feeds
/// one new token per step instead of the whole context again.</summary>
public sealed class KvCache
{
    public Tensor? Keys;     // (B, H, P, D)
    public Tensor? Values;   // (B, H, P, D)

    public int Length => Keys?.Size(2) ?? 0;
}

/// <summary>Causal multi-head self-attention: every position attends to itself and the positions before it
/// (with <see cref="GptConfig.Causal"/> = false, to every position: bidirectional, as in an encoder).</summary>
public sealed class CausalSelfAttention : Module
{
    readonly GptConfig config;
    readonly Linear c_attn;   // the query, key and value projections side by side: C → 3C
    readonly Linear c_proj;   // the heads' outputs mixed back into the residual stream: C → C
    readonly Dropout residualDropout;

    public CausalSelfAttention(GptConfig config, Generator generator)
    {
        this.config = config;
        c_attn = Register("c_attn", new Linear(config.Embedding, 3 * config.Embedding, config.Bias, generator));
        c_proj = Register("c_proj", new Linear(config.Embedding, config.Embedding, config.Bias, generator));
        residualDropout = Register("resid_dropout", new Dropout(config.Dropout));
    }

    public Linear Projection => c_proj;

    public Tensor Forward(Tensor x, KvCache? cache = null)
    {
        var (B, T, C) = (x.Size(0), x.Size(1), x.Size(2));
        var (H, D) = (config.Heads, config.HeadSize);

        var qkv = c_attn.Forward(x).Split(C, dim: 2);      // 3 × (B, T, C)
        var q = qkv[0].View(B, T, H, D).Transpose(1, 2);   // (B, H, T, D)
        var k = qkv[1].View(B, T, H, D).Transpose(1, 2);   // (B, H, T, D)
        var v = qkv[2].View(B, T, H, D).Transpose(1, 2);   // (B, H, T, D)

        var past = cache?.Length ?? 0;
        if (cache is not null)
        {
            if (past > 0 && T > 1)
                throw new ArgumentException($"CausalSelfAttention: a cache holding {past} positions takes one new token at a time, not {T}.");
            k = cache.Keys is null ? k : Tensor.Cat([cache.Keys, k], dim: 2);     // (B, H, P + T, D)
            v = cache.Values is null ? v : Tensor.Cat([cache.Values, v], dim: 2); // (B, H, P + T, D)
            cache.Keys = k;
            cache.Values = v;
        }

        // softmax(q·kᵀ/√D + causal mask)·v, fused. One new token after a cache attends to all of it: no mask.
        // An encoder (Causal = false) never masks: every position sees the whole window.
        var y = F.ScaledDotProductAttention(q, k, v, isCausal: config.Causal && past == 0,
            dropoutP: Training ? config.Dropout : 0f);      // (B, H, T, D)
        y = y.Transpose(1, 2).Contiguous().View(B, T, C);    // (B, T, C): the heads side by side again
        return residualDropout.Forward(c_proj.Forward(y));
    }

    /// <summary>
    /// The attention weights, written out the explicit way (what the fused call above computes inside):
    /// scores q·kᵀ/√D, future positions masked to −∞ (when causal), softmax over each row. (B, T, C) → (B, H, T, T);
    /// row i says how much position i takes from each position j ≤ i (each j, when not causal).
    /// </summary>
    public Tensor AttentionWeights(Tensor x)
    {
        var (B, T, C) = (x.Size(0), x.Size(1), x.Size(2));
        var (H, D) = (config.Heads, config.HeadSize);
        var qkv = c_attn.Forward(x).Split(C, dim: 2);      // 3 × (B, T, C)
        var q = qkv[0].View(B, T, H, D).Transpose(1, 2);   // (B, H, T, D)
        var k = qkv[1].View(B, T, H, D).Transpose(1, 2);   // (B, H, T, D)
        var scores = q.MatMul(k.Transpose(-2, -1)) * (1f / MathF.Sqrt(D));   // (B, H, T, T)
        if (!config.Causal) return scores.Softmax(-1);     // an encoder: nothing masked
        var future = Tensor.Ones([T, T], DType.Float32, x.Device).Triu(1);   // (T, T): 1 above the diagonal, with the scores
        return scores.MaskedFill(future, float.NegativeInfinity).Softmax(-1); // (B, H, T, T)
    }
}

/// <summary>The position-wise feed-forward network: C → 4C, GELU, 4C → C.</summary>
public sealed class Mlp : Module
{
    readonly Linear c_fc, c_proj;
    readonly Dropout dropout;

    public Mlp(GptConfig config, Generator generator)
    {
        c_fc = Register("c_fc", new Linear(config.Embedding, 4 * config.Embedding, config.Bias, generator));
        c_proj = Register("c_proj", new Linear(4 * config.Embedding, config.Embedding, config.Bias, generator));
        dropout = Register("dropout", new Dropout(config.Dropout));
    }

    public Linear Projection => c_proj;

    public Tensor Forward(Tensor x) => dropout.Forward(c_proj.Forward(c_fc.Forward(x).Gelu()));   // (B, T, C)
}

/// <summary>A pre-LN transformer block: x + attn(ln(x)), then x + mlp(ln(x)).</summary>
public sealed class Block : Module
{
    readonly LayerNorm ln_1, ln_2;

    public Block(GptConfig config, Generator generator)
    {
        ln_1 = Register("ln_1", new LayerNorm(config.Embedding, bias: config.Bias));
        Attention = Register("attn", new CausalSelfAttention(config, generator));
        ln_2 = Register("ln_2", new LayerNorm(config.Embedding, bias: config.Bias));
        Mlp = Register("mlp", new Mlp(config, generator));
    }

    public CausalSelfAttention Attention { get; }
    public Mlp Mlp { get; }

    /// <summary>This block's attention weights for its input x (B, T, C): (B, H, T, T).</summary>
    public Tensor AttentionWeights(Tensor x) => Attention.AttentionWeights(ln_1.Forward(x));

    public Tensor Forward(Tensor x, KvCache? cache = null)
    {
        x = x + Attention.Forward(ln_1.Forward(x), cache);   // (B, T, C)
        return x + Mlp.Forward(ln_2.Forward(x));             // (B, T, C)
    }
}

public sealed class Gpt : Module, INeuralLanguageModel
{
    readonly Embedding wte;   // token embedding, V × C; also the output layer (weight tying)
    readonly Embedding wpe;   // learned position embedding, BlockSize × C
    readonly Dropout drop;
    readonly ModuleList<Block> h;
    readonly LayerNorm ln_f;

    public Gpt(GptConfig config, ITokenizer tokenizer, Generator? generator = null, string? name = null)
    {
        config.Validate();
        if (tokenizer.VocabSize != config.VocabSize)
            throw new ArgumentException($"Gpt: the tokenizer has {tokenizer.VocabSize} tokens but the config says {config.VocabSize}.");
        Config = config;
        Tokenizer = tokenizer;
        Name = name ?? $"GPT {config.Layers}×{config.Embedding}";
        generator ??= new Generator(1337);

        wte = Register("wte", new Embedding(config.VocabSize, config.Embedding, generator));
        wpe = Register("wpe", new Embedding(config.BlockSize, config.Embedding, generator));
        drop = Register("drop", new Dropout(config.Dropout));
        h = Register("h", new ModuleList<Block>(Enumerable.Range(0, config.Layers).Select(_ => new Block(config, generator))));
        ln_f = Register("ln_f", new LayerNorm(config.Embedding, bias: config.Bias));

        // GPT-2's initialisation: N(0, 0.02) everywhere, zero biases, and the two projections that
        // write into the residual stream scaled down by √(2·Layers) so its variance does not grow with depth.
        foreach (var (paramName, p) in NamedParameters())
        {
            if (paramName.EndsWith("c_proj.weight", StringComparison.Ordinal))
                Init.Normal(p, 0, 0.02f / MathF.Sqrt(2 * config.Layers), generator);
            else if (p.Rank == 2)
                Init.Normal(p, 0, 0.02f, generator);
            else if (paramName.EndsWith(".bias", StringComparison.Ordinal) && !paramName.Contains("ln_", StringComparison.Ordinal))
                Init.Zeros(p);
        }
    }

    public GptConfig Config { get; }
    public string Name { get; }
    public ITokenizer Tokenizer { get; }
    public int ContextLength => Config.BlockSize;
    Module INeuralLanguageModel.Module => this;
    public IReadOnlyList<Block> Blocks => h;

    /// <summary>Logits for the next token at every position: tokens (B, T) Int32 → (B, T, V).
    /// With caches (one per layer), the tokens continue the cached positions.</summary>
    public Tensor Forward(Tensor tokens, KvCache[]? caches = null) => OutputLayer(Hidden(tokens, caches));

    /// <summary>Logits from the last layer's states: (B, T, C) → (B, T, V), tied to the token embedding.</summary>
    public Tensor OutputLayer(Tensor hidden) => F.Linear(hidden, wte.Weight);

    /// <summary>The last layer's normalised states, before the output layer: tokens (B, T) → (B, T, C).
    /// Heads other than the language-model head read these (a reward model's score, PPO's value).</summary>
    public Tensor Hidden(Tensor tokens, KvCache[]? caches = null)
    {
        TokenIds.Check(tokens, Config.VocabSize, Name);
        var (B, T) = (tokens.Size(0), tokens.Size(1));
        var past = caches?[0].Length ?? 0;
        if (past + T > Config.BlockSize)
            throw new ArgumentException($"Gpt: {past + T} positions exceed the block size {Config.BlockSize}.");
        _ = B;

        var positions = Tensor.Arange(past, past + T, device: wpe.Weight.Device);   // (T), Int32, where the model is
        var x = drop.Forward(wte.Forward(tokens) + wpe.Forward(positions));  // (B, T, C) + (T, C) broadcast
        for (var layer = 0; layer < h.Count; layer++)
            x = h[layer].Forward(x, caches?[layer]);                       // (B, T, C)
        return ln_f.Forward(x);                                            // (B, T, C)
    }

    public Tensor Logits(Tensor inputs) => Forward(inputs);

    /// <summary>Every layer's attention weights for tokens (B, T): one (B, H, T, T) tensor per layer, in eval mode.</summary>
    public Tensor[] AttentionWeights(Tensor tokens)
    {
        using var inference = Inference();
        var T = tokens.Size(1);
        var x = wte.Forward(tokens) + wpe.Forward(Tensor.Arange(0, T, device: wpe.Weight.Device));   // (B, T, C)
        var weights = new Tensor[h.Count];
        for (var layer = 0; layer < h.Count; layer++)
        {
            weights[layer] = h[layer].AttentionWeights(x);               // (B, H, T, T)
            x = h[layer].Forward(x);                                      // (B, T, C)
        }
        return weights;
    }

    /// <summary>Mean cross-entropy of the next-token predictions: inputs and targets (B, T) Int32.</summary>
    public Tensor Loss(Tensor inputs, Tensor targets)
    {
        TokenIds.CheckTargets(targets, Config.VocabSize, Name);
        var logits = Forward(inputs);                                      // (B, T, V)
        var (B, T, V) = (logits.Size(0), logits.Size(1), logits.Size(2));
        return F.CrossEntropy(logits.View(B * T, V), targets.View(B * T));  // (B·T, V) against (B·T)
    }

    /// <summary>
    /// Scores the text with a sliding window: windows of <c>BlockSize</c> tokens that advance by a quarter
    /// block, each counting only its last quarter, so every prediction sees at least three quarters of a
    /// block of context (the whole block, at the start of the text, when there is less). nanoGPT's
    /// validation loss instead averages over all positions of independent windows (context 0 to T − 1);
    /// that is <see cref="SequenceScoring.Windows"/> with no warmup, and the trainer's evaluations.
    /// </summary>
    public (double Nats, int Predictions) NegativeLogLikelihood(int[] tokens)
    {
        var stride = Math.Max(1, Config.BlockSize / 4);
        return SequenceScoring.Windows(this, tokens, stride, warmup: Config.BlockSize - stride);
    }

    public string Generate(string prompt, int maxNewTokens, Sampling? sampling = null, int seed = 0) =>
        Tokenizer.Decode(GenerateTokens(prompt.Length == 0 ? [0] : Tokenizer.Encode(prompt), maxNewTokens, sampling, seed));

    /// <summary>
    /// Samples one token at a time, as nanoGPT's generate. With the KV cache (the default) each step
    /// runs only the newest token through the network. Learned positions cannot slide, so once the
    /// text fills the block the window moves on and every step recomputes it, exactly as without the cache.
    /// </summary>
    public int[] GenerateTokens(int[] prompt, int maxNewTokens, Sampling? sampling = null, int seed = 0, bool useKvCache = true)
    {
        if (prompt.Length == 0) throw new ArgumentException("Gpt.GenerateTokens: the prompt needs at least one token.", nameof(prompt));
        sampling ??= Sampling.Default;
        var random = new Random(seed);
        var tokens = new List<int>(prompt);
        using var inference = Inference();
        KvCache[]? caches = null;
        for (var step = 0; step < maxNewTokens; step++)
        {
            Tensor logits;
            if (useKvCache && caches is not null && caches[0].Length < Config.BlockSize)
            {
                logits = Forward(Tensor.FromArray([tokens[^1]], [1, 1], wte.Weight.Device), caches);   // (1, 1, V)
            }
            else
            {
                var window = tokens.Skip(Math.Max(0, tokens.Count - Config.BlockSize)).ToArray();
                caches = useKvCache ? Enumerable.Range(0, Config.Layers).Select(_ => new KvCache()).ToArray() : null;
                logits = Forward(Tensor.FromArray(window, [1, window.Length], wte.Weight.Device), caches);   // (1, T, V)
            }
            var last = logits.Select(1, logits.Size(1) - 1).Select(0, 0).ToArray();     // (V)
            tokens.Add(sampling.Sample(last, random));
        }
        return tokens.ToArray();
    }
}
