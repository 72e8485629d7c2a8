using System.Globalization;
using System.Reflection;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Text;

/// <summary>
/// A text to train on, with its name and where it came from, and the one train/validation split
/// every model in the course is measured on: the first 90% of the characters train, the last 10%
/// validate (as nanoGPT's <c>prepare.py</c> does), so a number in one lesson can be compared with a
/// number in another.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed class Corpus
{
    /// <summary>The share of the text, from its start, that models train on.</summary>
    public const double TrainFraction = 0.9;

    public Corpus(string name, string text, string source)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length < 2)
            throw new ArgumentException($"Corpus '{name}': a text of {text.Length} characters cannot be split into train and validation.", nameof(text));
        Name = name;
        Text = text;
        Source = source;
        SplitIndex = Math.Clamp((int)(text.Length * TrainFraction), 1, text.Length - 1);
    }

    public string Name { get; }
    public string Text { get; }

    /// <summary>Where the text came from: its URL and licence, or the code that generated it.</summary>
    public string Source { get; }

    /// <summary>The first validation character: <c>(int)(Text.Length * 0.9)</c>.</summary>
    public int SplitIndex { get; }

    public string Train => Text[..SplitIndex];
    public string Validation => Text[SplitIndex..];

    /// <summary>
    /// A catalog dataset by name (downloaded on first use, see <see cref="DatasetStore"/>), or the
    /// built-in corpus by its name <c>"tinyplays"</c>. When the dataset cannot be had (offline and
    /// not cached), the built-in corpus is returned instead and a note saying so is written to
    /// <paramref name="log"/> (standard output by default, so a notebook shows it); with
    /// <c>LLMCOURSE_REQUIRE_DATA=1</c> (CI) the <see cref="DatasetUnavailableException"/> is thrown instead.
    /// </summary>
    public static Corpus Load(string name, TextWriter? log = null) => Load(name, DatasetStore.Default, log);

    public static Corpus Load(string name, DatasetStore store, TextWriter? log = null)
    {
        if (string.Equals(name, TinyPlays.Name, StringComparison.OrdinalIgnoreCase)) return BuiltIn();
        var dataset = DatasetCatalog.Get(name);
        try
        {
            var text = File.ReadAllText(store.GetPath(dataset));
            var sha = store.ExpectedSha256(dataset) ?? "";
            return new Corpus(dataset.Name, text, $"{dataset.Url} (SHA-256 {sha[..Math.Min(12, sha.Length)]}…{(dataset.IsHashPinned ? "" : ", recorded at the first download")}; {dataset.Licence})");
        }
        catch (DatasetUnavailableException e) when (!DatasetStore.DataRequired)
        {
            var fallback = BuiltIn();
            (log ?? Console.Out).WriteLine(
                $"Note: '{dataset.Name}' is not available here, so this notebook uses the built-in corpus '{fallback.Name}' instead; " +
                $"its figures will differ from the ones quoted. {e.Message.Split('\n')[0]}");
            return fallback;
        }
        catch (DatasetUnavailableException e)
        {
            throw DatasetStore.FallbackRefused(e, $"using the built-in corpus '{TinyPlays.Name}'");
        }
    }

    /// <summary>The built-in corpus, <c>datasets/tinyplays.txt</c>, which ships inside this library.</summary>
    public static Corpus BuiltIn()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("LlmCourse.datasets." + TinyPlays.FileName)
            ?? throw new InvalidOperationException($"The built-in corpus {TinyPlays.FileName} is missing from the LlmCourse assembly.");
        using var reader = new StreamReader(stream);
        return new Corpus(TinyPlays.Name, reader.ReadToEnd(),
            $"datasets/{TinyPlays.FileName}, written by LlmCourse.Text.TinyPlays.Generate() (seed {TinyPlays.DefaultSeed}); original text, no licence needed");
    }

    /// <summary>
    /// The first <paramref name="length"/> characters as a corpus of their own (split 90/10 again), for
    /// quick mode: <c>corpus.Take(Course.Budget(corpus.Text.Length, 200_000))</c>. The whole text when it is shorter.
    /// </summary>
    public Corpus Take(int length)
    {
        if (length >= Text.Length) return this;
        return new Corpus(Name, Text[..length], $"{Source}; its first {length:N0} characters");
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}: {Text.Length:N0} characters (train {SplitIndex:N0}, validation {Text.Length - SplitIndex:N0}); source: {Source}");
}
