using LlmCourse.Tensors.Formatting;
using System.Diagnostics;
using System.Text.Json;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Text;
using LlmCourse.Tokenizers;
using LlmCourse.Training;

namespace LlmCourse.Alignment;

/// <summary>A pretrained GPT and where it came from.</summary>
/// <param name="Source">"loaded from PATH (trained in … earlier)" or "trained here in …, saved to PATH".</param>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record PretrainedModel(Gpt Model, CharTokenizer Tokenizer, Corpus Corpus, string Path, bool Loaded, TimeSpan Elapsed, string Source)
{
    public override string ToString() => $"{Model.Name} ({Model.ParameterCount():N0} parameters, block {Model.Config.BlockSize}) on {Corpus.Name}: {Source}";
}

/// <summary>
/// The course's pretrained character-level GPT, the starting point of lessons 06–08: lesson 03's
/// model (4 layers × 128, TinyShakespeare, or the built-in corpus offline) with a block of 128
/// characters, so that a question, its answer and the chat markers fit in one window. It is read
/// from <c>{cache}/models/gpt-char-{corpus}.safetensors</c> when an earlier run wrote it, otherwise
/// trained here with the course's <see cref="Trainer"/> and saved there (quick mode: a smaller model,
/// a few hundred steps, its own file <c>…-quick.safetensors</c>, so a test run never replaces the
/// real one). <c>{cache}</c> is <c>LLMCOURSE_CACHE</c>, else <c>~/.cache/llmcourse</c>.
/// </summary>
public static class BaseModel
{
    public const string Format = "llmcourse-gpt-char-1";

    /// <summary>The block every conversation of the instruction tasks fits in (the longest is about 90 tokens).</summary>
    public const int BlockSize = 128;

    /// <summary><c>{cache}/models</c>.</summary>
    public static string ModelDirectory() => System.IO.Path.Combine(DatasetStore.DefaultCacheDirectory(), "models");

    /// <summary>Where the base model of this corpus lives (quick mode: its own file).</summary>
    public static string PathFor(string corpusName) =>
        System.IO.Path.Combine(ModelDirectory(), $"gpt-char-{corpusName}{(Course.IsQuick ? "-quick" : "")}.safetensors");

    /// <summary>The shape trained here: lesson 03's GPT with a 128 block (quick: 2 layers × 64).</summary>
    public static GptConfig Config(int vocabSize) => Course.Budget(
        full: new GptConfig(vocabSize, BlockSize: BlockSize, Layers: 4, Heads: 4, Embedding: 128),
        quick: new GptConfig(vocabSize, BlockSize: BlockSize, Layers: 2, Heads: 2, Embedding: 64));

    /// <summary>How it is pretrained when no checkpoint is found.</summary>
    public static TrainingOptions Options(Action<TrainingProgress>? progress = null) => new()
    {
        Steps = Course.Budget(2500, 150),
        BatchSize = Course.Budget(16, 8),
        WarmupSteps = Course.Budget(100, 10),
        EvalInterval = Course.Budget(250, 50),
        EvalBatches = Course.Budget(10, 2),
        Progress = progress,
    };

    /// <summary>
    /// The base model: loaded when its checkpoint exists (and <paramref name="retrain"/> is false), else
    /// trained and saved. <paramref name="log"/> (standard output by default) says which, and how long it took.
    /// </summary>
    public static PretrainedModel LoadOrTrain(string corpusName = "tinyshakespeare", Action<TrainingProgress>? progress = null,
        TextWriter? log = null, bool retrain = false)
    {
        log ??= Console.Out;
        var corpus = Corpus.Load(corpusName, log);
        corpus = corpus.Take(Course.Budget(corpus.Text.Length, 200_000));
        var path = PathFor(corpus.Name);
        var clock = Stopwatch.StartNew();
        if (!retrain && File.Exists(path))
        {
            var (gpt, tokenizer, metadata) = Load(path);
            var result = new PretrainedModel(gpt, tokenizer, corpus, path, true, clock.Elapsed,
                $"loaded from {path} in {clock.Elapsed.TotalSeconds:F1} s (it was trained in {metadata.GetValueOrDefault("train_seconds", "?")} s, {metadata.GetValueOrDefault("steps", "?")} steps)");
            log.WriteLine(result);
            return result;
        }

        log.WriteLine($"No pretrained model at {path}: training one here ({Options().Steps} steps; a few minutes on a laptop CPU in full mode).");
        var chars = CharTokenizer.FromText(corpus.Text);
        var model = new Gpt(Config(chars.VocabSize), chars, new Generator(1337));
        var options = Options(progress);
        var trainer = new Trainer(model, chars.Encode(corpus.Train), chars.Encode(corpus.Validation), options);
        var history = trainer.Run();
        var seconds = clock.Elapsed.TotalSeconds;
        Save(model, path, new Dictionary<string, string>
        {
            ["corpus"] = corpus.Name,
            ["steps"] = options.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["train_seconds"] = seconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture),
            ["validation_loss"] = history.LastEvaluation?.ValidationLoss.ToString("F4", System.Globalization.CultureInfo.InvariantCulture) ?? "",
        });
        var trained = new PretrainedModel(model, chars, corpus, path, false, clock.Elapsed,
            $"trained here in {seconds:F0} s ({options.Steps} steps, validation loss {history.LastEvaluation?.ValidationLoss:F3}), saved to {path}");
        log.WriteLine(trained);
        return trained;
    }

    /// <summary>Writes a character GPT with its vocabulary and shape, so <see cref="Load"/> can rebuild it (an earlier lesson may call this to hand its model on).</summary>
    public static void Save(Gpt model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (model.Tokenizer is not CharTokenizer chars)
            throw new ArgumentException($"BaseModel.Save: the GPT's tokenizer is a {model.Tokenizer.GetType().Name}, not a CharTokenizer.", nameof(model));
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            ["format"] = Format,
            ["name"] = model.Name,
            ["config"] = JsonSerializer.Serialize(model.Config),
            ["characters"] = new string(chars.Vocabulary.ToArray()),
        };
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        Safetensors.Save(path, model.StateDict(), meta);
    }

    public static (Gpt Model, CharTokenizer Tokenizer, Dictionary<string, string> Metadata) Load(string path)
    {
        var (tensors, metadata) = Safetensors.LoadWithMetadata(path);
        if (metadata.GetValueOrDefault("format") != Format)
            throw new InvalidDataException($"BaseModel.Load: {path} is not a character GPT checkpoint (format '{metadata.GetValueOrDefault("format")}', expected '{Format}'); delete it to train a new one.");
        var config = JsonSerializer.Deserialize<GptConfig>(metadata["config"])
            ?? throw new InvalidDataException($"BaseModel.Load: {path} has no GPT config.");
        var chars = new CharTokenizer(metadata["characters"]);
        var gpt = new Gpt(config, chars, new Generator(0), metadata.GetValueOrDefault("name"));
        gpt.LoadStateDict(tensors);
        return (gpt, chars, metadata);
    }
}
