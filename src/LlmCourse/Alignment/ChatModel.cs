using System.Globalization;
using System.Text.Json;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;

namespace LlmCourse.Alignment;

/// <summary>
/// A GPT that speaks the chat template: the model, its grown tokenizer and the template, with reply
/// generation that stops at <c>&lt;|assistant_end|&gt;</c>, and a checkpoint format that keeps all three.
/// Lessons 07 and 08 start from the one lesson 06 saves: <c>ChatModel.Load(ChatModel.FineTunedPath())</c>.
/// </summary>
public sealed class ChatModel
{
    public const string Format = "llmcourse-chat-1";

    public ChatModel(Gpt gpt, ChatTemplate template)
    {
        if (gpt.Config.VocabSize != template.Tokenizer.VocabSize)
            throw new ArgumentException($"ChatModel: the GPT has {gpt.Config.VocabSize} tokens but the template's tokenizer {template.Tokenizer.VocabSize}.");
        Gpt = gpt;
        Template = template;
    }

    public Gpt Gpt { get; }
    public ChatTemplate Template { get; }
    public ChatTokenizer Tokenizer => Template.Tokenizer;
    public int ContextLength => Gpt.Config.BlockSize;

    /// <summary>
    /// The pretrained GPT with its vocabulary grown by <paramref name="extraCharacters"/> and the chat
    /// template's special tokens. Every pretrained weight is copied; the new embedding rows (which,
    /// tied, are also the new output rows) start at the mean of the pretrained rows plus a little
    /// noise (Hewitt 2021, "Initializing new word embeddings"): as an output row, the mean gives the new
    /// token a logit h·ē equal to the average logit, so the grown model's predictions for old text are
    /// barely changed (a random row could dominate, or be unreachable); as an input, the mean is a
    /// vector the network has seen the like of. The noise, a tenth of the rows' own spread, makes the
    /// new tokens differ from each other, so gradient can tell them apart.
    /// </summary>
    public static ChatModel FromPretrained(Gpt pretrained, IEnumerable<char> extraCharacters, ulong seed = 6)
    {
        if (pretrained.Tokenizer is not CharTokenizer characters)
            throw new ArgumentException($"ChatModel.FromPretrained: the GPT's tokenizer is a {pretrained.Tokenizer.GetType().Name}; this course grows character tokenizers.", nameof(pretrained));
        var template = ChatTemplate.ForCharacters(characters.Vocabulary, extraCharacters);
        var config = pretrained.Config with { VocabSize = template.Tokenizer.VocabSize };
        var gpt = new Gpt(config, template.Tokenizer, new Generator(seed), pretrained.Name + " chat");

        var state = pretrained.StateDict();
        var old = state["wte.weight"];                             // (V, C)
        var (V, C) = (old.Size(0), old.Size(1));
        var added = config.VocabSize - V;
        var rows = old.ToArray();
        var mean = new float[C];
        for (var v = 0; v < V; v++) for (var c = 0; c < C; c++) mean[c] += rows[v * C + c] / V;
        double variance = 0;
        for (var v = 0; v < V; v++) for (var c = 0; c < C; c++) variance += Math.Pow(rows[v * C + c] - mean[c], 2) / ((double)V * C);
        var noiseScale = 0.1f * (float)Math.Sqrt(variance);
        var noise = Tensor.Randn([added, C], new Generator(seed)).ToArray();
        var grown = new float[(V + added) * C];
        Array.Copy(rows, grown, rows.Length);
        for (var v = 0; v < added; v++) for (var c = 0; c < C; c++) grown[(V + v) * C + c] = mean[c] + noiseScale * noise[v * C + c];
        state["wte.weight"] = Tensor.FromArray(grown, V + added, C);
        gpt.LoadStateDict(state);
        return new ChatModel(gpt, template);
    }

    /// <summary>
    /// Generates a reply to <paramref name="promptIds"/> (a prompt from <see cref="ChatTemplate.RenderPrompt"/>),
    /// one token at a time with the KV cache, until the model writes a special token
    /// (<c>&lt;|assistant_end|&gt;</c>, or any other, which a well-trained model does not) or
    /// <paramref name="maxNewTokens"/> are written. A prompt too long to leave that room in the block
    /// keeps its last tokens. Returns the reply's ids, without the end token;
    /// <paramref name="onToken"/> sees each one as it comes (streaming).
    /// </summary>
    public int[] GenerateReply(int[] promptIds, int maxNewTokens = 48, Sampling? sampling = null, int seed = 0, Action<int>? onToken = null)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        if (promptIds.Length == 0) throw new ArgumentException("ChatModel.GenerateReply: the prompt is empty.", nameof(promptIds));
        maxNewTokens = Math.Clamp(maxNewTokens, 1, ContextLength - 1);
        var keep = ContextLength - maxNewTokens;
        var context = promptIds.Length > keep ? promptIds[^keep..] : promptIds;
        return Continue(context, maxNewTokens, sampling ?? Sampling.Greedy, seed, stop: Tokenizer.IsSpecial, onToken);
    }

    /// <summary>Greedy reply to one user message (what the task evaluation scores).</summary>
    public string Reply(string userMessage, int maxNewTokens = 48) =>
        Tokenizer.Decode(GenerateReply(Template.RenderPrompt([ChatMessage.User(userMessage)]), maxNewTokens));

    /// <summary>Samples the continuation of plain text (no template) until <paramref name="stop"/> says a token ends it; used for few-shot prompting of a model not yet fine-tuned.</summary>
    public string Complete(string text, int maxNewTokens, Func<int, bool> stop, Sampling? sampling = null)
    {
        var ids = Tokenizer.Encode(text);
        maxNewTokens = Math.Clamp(maxNewTokens, 1, ContextLength - 1);
        var keep = ContextLength - maxNewTokens;
        if (ids.Length > keep) ids = ids[^keep..];
        return Tokenizer.Decode(Continue(ids, maxNewTokens, sampling ?? Sampling.Greedy, 0, stop, null));
    }

    int[] Continue(int[] context, int maxNewTokens, Sampling sampling, int seed, Func<int, bool> stop, Action<int>? onToken)
    {
        var random = new Random(seed);
        var reply = new List<int>();
        using var inference = Gpt.Inference();
        var caches = Enumerable.Range(0, Gpt.Config.Layers).Select(_ => new KvCache()).ToArray();
        using (var scope = TensorScope.Begin())
        {
            var logits = Gpt.Forward(Tensor.FromArray(context, 1, context.Length), caches);   // (1, T, V)
            for (var step = 0; step < maxNewTokens; step++)
            {
                var last = logits.Select(1, logits.Size(1) - 1).Select(0, 0).ToArray();     // (V)
                var next = sampling.Sample(last, random);
                if (stop(next)) break;
                reply.Add(next);
                onToken?.Invoke(next);
                if (step == maxNewTokens - 1 || caches[0].Length >= ContextLength) break;
                logits = Gpt.Forward(Tensor.FromArray([next], 1, 1), caches);               // (1, 1, V)
            }
        }
        return reply.ToArray();
    }

    // ---- checkpoints ----

    /// <summary>The weights, the GPT's shape and the tokenizer in one safetensors file (written atomically).</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            ["format"] = Format,
            ["name"] = Gpt.Name,
            ["config"] = JsonSerializer.Serialize(Gpt.Config),
            ["characters"] = new string(Tokenizer.Characters.ToArray()),
            ["base_vocab_size"] = Tokenizer.BaseVocabSize.ToString(CultureInfo.InvariantCulture),
            ["special_tokens"] = JsonSerializer.Serialize(Tokenizer.SpecialTokens),
        };
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        Safetensors.Save(path, Gpt.StateDict(), meta);
    }

    /// <summary>A chat model saved by <see cref="Save"/>; its metadata is returned beside it.</summary>
    public static ChatModel Load(string path) => LoadWithMetadata(path).Model;

    public static (ChatModel Model, Dictionary<string, string> Metadata) LoadWithMetadata(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"ChatModel.Load: no checkpoint at {path}. Lesson 06 (notebooks/06-sft.ipynb) writes one to {FineTunedPath()}.", path);
        var (tensors, metadata) = Safetensors.LoadWithMetadata(path);
        if (metadata.GetValueOrDefault("format") != Format)
            throw new InvalidDataException($"ChatModel.Load: {path} is not a chat model checkpoint (format '{metadata.GetValueOrDefault("format")}', expected '{Format}').");
        var config = JsonSerializer.Deserialize<GptConfig>(metadata["config"])
            ?? throw new InvalidDataException($"ChatModel.Load: {path} has no GPT config.");
        var characters = metadata["characters"];
        var baseSize = int.Parse(metadata["base_vocab_size"], CultureInfo.InvariantCulture);
        var specials = JsonSerializer.Deserialize<string[]>(metadata["special_tokens"]) ?? [];
        var template = new ChatTemplate(new ChatTokenizer(characters[..baseSize].ToArray(), characters[baseSize..], specials));
        var gpt = new Gpt(config, template.Tokenizer, new Generator(0), metadata.GetValueOrDefault("name"));
        gpt.LoadStateDict(tensors);
        return (new ChatModel(gpt, template), metadata);
    }

    /// <summary>An independent copy (same weights, new tensors): the frozen reference of RLHF and DPO.</summary>
    public ChatModel Clone()
    {
        var gpt = new Gpt(Gpt.Config, Tokenizer, new Generator(0), Gpt.Name);
        gpt.LoadStateDict(Gpt.StateDict());
        return new ChatModel(gpt, Template);
    }

    /// <summary>Where lesson 06 saves its fine-tuned model: <c>{cache}/models/sft-chat.safetensors</c>
    /// (<c>sft-chat-quick.safetensors</c> in quick mode), the cache being <c>LLMCOURSE_CACHE</c> or <c>~/.cache/llmcourse</c>.</summary>
    public static string FineTunedPath() => Path.Combine(BaseModel.ModelDirectory(), "sft-chat" + (Course.IsQuick ? "-quick" : "") + ".safetensors");
}
