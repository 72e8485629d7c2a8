using LlmCourse.Tensors.Formatting;
using System.Text;
using System.Text.Json;
using LlmCourse.Text;

namespace LlmCourse.Data;

/// <summary>
/// A small "crawl": the training part of a clean text (TinyShakespeare, or the built-in plays) cut
/// into pages, mixed with the noise real crawls carry (<see cref="CrawlNoise"/>), each page labelled
/// with its kind so a lesson can see what each cleaning stage caught. The corpus's validation part
/// is held out, clean, never in the crawl: the text a model trained on the raw or the cleaned crawl
/// is measured on. The same text and seed give the same pages, byte for byte.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed class WebLikeCorpus
{
    public const ulong DefaultSeed = 2024;
    public const string Clean = "clean";
    public const string Boilerplate = "clean + boilerplate";
    public const string ExactDuplicate = "exact duplicate";
    public const string NearDuplicate = "near duplicate";
    public const string KeywordSpam = "keyword spam";
    public const string Gibberish = "gibberish";
    public const string AsciiArt = "ascii art";
    public const string NumberTable = "number table";
    public const string TemplatedSpam = "templated spam";

    /// <summary>The file the built-in version ships as, under <c>datasets/</c>.</summary>
    public const string FileName = "weblike-tinyplays.jsonl";

    WebLikeCorpus(string name, List<Document> documents, Dictionary<string, string> kinds, string heldOut)
    {
        Name = name;
        Documents = documents;
        Kinds = kinds;
        HeldOut = heldOut;
    }

    public string Name { get; }

    /// <summary>The crawl, in order.</summary>
    public IReadOnlyList<Document> Documents { get; }

    /// <summary>Each document's kind, by id.</summary>
    public IReadOnlyDictionary<string, string> Kinds { get; }

    /// <summary>Clean text that no page contains: the corpus's validation part.</summary>
    public string HeldOut { get; }

    public string KindOf(Document document) => Kinds[document.Id];

    /// <summary>All the documents' text, separated by blank lines, as a model would read it.</summary>
    public static string Concatenate(IEnumerable<Document> documents) =>
        string.Join("\n", documents.Select(d => d.Text.TrimEnd('\n') + "\n"));

    /// <summary>The crawl built from <paramref name="corpus"/>'s training part; its validation part is held out.</summary>
    public static WebLikeCorpus Build(Corpus corpus, ulong seed = DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var rng = new TinyPlays.SplitMix64(seed);
        var noise = new CrawlNoise(rng);
        var documents = new List<Document>();
        var kinds = new Dictionary<string, string>();
        var published = new List<string>();   // the crawl's clean pages as they appear in it (with their site's boilerplate)

        void Add(string kind, string text)
        {
            var id = $"page-{documents.Count + 1:D5}";
            documents.Add(new Document(id, text));
            kinds[id] = kind;
            if (kind is Clean or Boilerplate) published.Add(text);
        }

        string EarlierPage() =>
            // A few pages are copied again and again (a popular page), most at most once or twice.
            rng.Chance(40) ? published[rng.Below(Math.Min(12, published.Count))] : published[rng.Below(published.Count)];

        foreach (var page in Pages(corpus.Train, rng))
        {
            if (rng.Chance(25)) Add(Boilerplate, noise.WithBoilerplate(page));
            else Add(Clean, page);
            if (rng.Chance(12)) Add(ExactDuplicate, noise.ExactCopy(EarlierPage()));
            if (rng.Chance(15)) Add(NearDuplicate, noise.NearCopy(EarlierPage()));
            if (rng.Chance(6)) Add(KeywordSpam, noise.KeywordSpam());
            if (rng.Chance(5)) Add(Gibberish, noise.Gibberish());
            if (rng.Chance(4)) Add(AsciiArt, noise.AsciiArt());
            if (rng.Chance(5)) Add(NumberTable, noise.NumberTable());
            if (rng.Chance(8)) Add(TemplatedSpam, noise.TemplatedSpam());
        }
        return new WebLikeCorpus($"web-like {corpus.Name}", documents, kinds, corpus.Validation);
    }

    /// <summary>The text cut at blank lines into pages of 800 to 2,000 characters.</summary>
    static IEnumerable<string> Pages(string text, TinyPlays.SplitMix64 rng)
    {
        var page = new StringBuilder();
        var target = 800 + rng.Below(1200);
        foreach (var block in text.Replace("\r\n", "\n").Split("\n\n"))
        {
            if (block.Trim().Length == 0) continue;
            page.Append(block.Trim('\n')).Append("\n\n");
            if (page.Length < target) continue;
            yield return page.ToString().TrimEnd('\n') + "\n";
            page.Clear();
            target = 800 + rng.Below(1200);
        }
        if (page.Length > 0) yield return page.ToString().TrimEnd('\n') + "\n";
    }

    // ---- the file: one JSON object per line ----

    /// <summary>JSON lines: a header object, then one {"id", "kind", "text"} per document.</summary>
    public string ToJsonLines()
    {
        var text = new StringBuilder();
        text.Append(JsonSerializer.Serialize(new Dictionary<string, string> { ["name"] = Name, ["held_out"] = HeldOut })).Append('\n');
        foreach (var d in Documents)
            text.Append(JsonSerializer.Serialize(new Dictionary<string, string> { ["id"] = d.Id, ["kind"] = Kinds[d.Id], ["text"] = d.Text })).Append('\n');
        return text.ToString();
    }

    public static WebLikeCorpus FromJsonLines(string jsonLines)
    {
        var lines = jsonLines.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0) throw new InvalidDataException("WebLikeCorpus: the file is empty.");
        var header = JsonSerializer.Deserialize<Dictionary<string, string>>(lines[0])
            ?? throw new InvalidDataException("WebLikeCorpus: the first line must be the header {\"name\", \"held_out\"}.");
        var documents = new List<Document>();
        var kinds = new Dictionary<string, string>();
        foreach (var line in lines.Skip(1))
        {
            var o = JsonSerializer.Deserialize<Dictionary<string, string>>(line)!;
            documents.Add(new Document(o["id"], o["text"]));
            kinds[o["id"]] = o["kind"];
        }
        return new WebLikeCorpus(header["name"], documents, kinds, header["held_out"]);
    }

    /// <summary>Writes the JSON lines to <paramref name="path"/> atomically (a temporary file, then a rename).</summary>
    public void Save(string path)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, ToJsonLines(), new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }

    public static WebLikeCorpus Load(string path) => FromJsonLines(File.ReadAllText(path));

    /// <summary>How many documents and bytes of each kind.</summary>
    public IEnumerable<(string Kind, int Documents, long Bytes)> Composition() =>
        Documents.GroupBy(d => Kinds[d.Id]).Select(g => (g.Key, g.Count(), g.Sum(d => (long)d.Bytes))).OrderByDescending(k => k.Item3);

    public override string ToString() =>
        $"{Name}: {Documents.Count:N0} pages, {Documents.Sum(d => (long)d.Bytes):N0} bytes; held-out clean text {HeldOut.Length:N0} characters";
}
