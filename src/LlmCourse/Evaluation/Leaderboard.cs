using System.Text.Json;
using LlmCourse.Charts;
using LlmCourse.Models;
using LlmCourse.Text;

namespace LlmCourse.Evaluation;

/// <summary>
/// Models scored on the same validation text, in the order they were added (lesson by lesson, from
/// the unigram to GPT), shown as a table: loss per token, perplexity, and bits per character, the
/// column that compares models whatever their tokenizer (the best one in bold). End a notebook cell
/// with it to see the table.
/// </summary>
public sealed class Leaderboard : View
{
    readonly List<(EvaluationResult Result, string Note)> entries = [];

    public Leaderboard(string title = "Leaderboard") => Title = title;

    public string Title { get; }

    public IReadOnlyList<EvaluationResult> Results => entries.Select(e => e.Result).ToArray();

    /// <summary>Scores the model on <paramref name="validationText"/>, adds it, and returns its score.</summary>
    public EvaluationResult Add(ILanguageModel model, string validationText, string note = "")
    {
        var result = model.Evaluate(validationText);
        Add(result, note);
        return result;
    }

    /// <summary>Adds a score (replacing an earlier one of the same model).</summary>
    public Leaderboard Add(EvaluationResult result, string note = "")
    {
        ArgumentNullException.ThrowIfNull(result);
        var existing = entries.FindIndex(e => e.Result.Model == result.Model);
        if (existing >= 0) entries[existing] = (result, note);
        else entries.Add((result, note));
        return this;
    }

    /// <summary>The entry with the fewest bits per character.</summary>
    public EvaluationResult? Best => entries.Count == 0 ? null : entries.MinBy(e => e.Result.BitsPerCharacter).Result;

    /// <summary>The table, with the best bits per character in bold.</summary>
    public TableView ToTable(string? title = null) => new TableView(
        ["model", "loss (nats/token)", "perplexity", "bits/char", "note"],
        entries.Select(e => new object?[]
        {
            e.Result.Model,
            Round(e.Result.Loss, 3),
            Round(e.Result.Perplexity, 2),
            Round(e.Result.BitsPerCharacter, 3),
            e.Note,
        }),
        title ?? Title).Highlight("bits/char");

    static double Round(double value, int digits) => double.IsFinite(value) ? Math.Round(value, digits) : value;

    public override string ToHtml() => ToTable().ToHtml();

    // ---- one leaderboard across lessons ----

    /// <summary>Where the results of a corpus's leaderboard are kept between lessons:
    /// <c>{cache}/results/{corpus}.json</c>, or <c>{corpus}-quick.json</c> in quick mode so test runs
    /// never mix with real ones.</summary>
    public static string SharedPath(string corpusName, string? directory = null) =>
        Path.Combine(directory ?? Path.Combine(DatasetStore.DefaultCacheDirectory(), "results"), corpusName + (Course.IsQuick ? "-quick" : "") + ".json");

    // Infinity is a real result (an unsmoothed model on unseen text), which plain JSON cannot write.
    static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The results earlier lessons saved for this corpus (none yet: an empty board).</summary>
    public static Leaderboard Shared(string corpusName, string title = "Leaderboard", string? directory = null)
    {
        var board = new Leaderboard(title);
        var path = SharedPath(corpusName, directory);
        if (!File.Exists(path)) return board;
        foreach (var entry in JsonSerializer.Deserialize<SavedEntry[]>(File.ReadAllText(path), Json) ?? [])
            board.Add(new EvaluationResult(entry.Model, entry.Tokens, entry.Characters, entry.Nats), entry.Note);
        return board;
    }

    /// <summary>Saves these results for the lessons that follow (written atomically).</summary>
    public void SaveShared(string corpusName, string? directory = null)
    {
        var path = SharedPath(corpusName, directory);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(entries.Select(e =>
            new SavedEntry(e.Result.Model, e.Result.Tokens, e.Result.Characters, e.Result.Nats, e.Note)), Json));
        File.Move(temp, path, overwrite: true);
    }

    sealed record SavedEntry(string Model, int Tokens, int Characters, double Nats, string Note);

    public override string ToString() => ToTable().ToString();
}
