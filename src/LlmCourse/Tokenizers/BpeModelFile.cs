using System.Globalization;
using System.Text;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tokenizers;

/// <summary>
/// Our own file for a trained BPE, readable in an editor (after minbpe's <c>.model</c>):
/// <code>
/// llmcourse-bpe v1
/// pattern 's|'t|'re|…          (nothing after "pattern" for the basic tokenizer)
/// special 1
/// &lt;|endoftext|&gt; 1023          (token, space, id)
/// merges 767
/// 101 32    # 'e' + ' ' -> 'e '  (left id, right id; merge i makes id 256 + i; # starts a comment)
/// </code>
/// Bytes are ids 0-255, so GPT-2's ranks (which order the bytes differently) go in a .tiktoken file instead.
/// </summary>
public static class BpeModelFile
{
    public const string Header = "llmcourse-bpe v1";

    /// <summary>What the file holds: the pattern (null: no pre-tokenization), special tokens, merges.</summary>
    [TypeFormatterSource(typeof(TextFormatterSource))]
    public sealed record Contents(string? Pattern, IReadOnlyDictionary<string, int> SpecialTokens, IReadOnlyList<BpeMerge> Merges);

    public static void Write(string path, string? pattern, IReadOnlyDictionary<string, int> specialTokens, BpeVocabulary vocabulary)
    {
        if (!vocabulary.BytesAreIdentity)
            throw new InvalidOperationException(
                "BpeModelFile: this vocabulary does not give byte b the id b (GPT-2's ranks do not), so its merges cannot be written as ids 256, 257, …; save it as a .tiktoken file instead.");
        if (pattern is not null && pattern.AsSpan().ContainsAny('\n', '\r'))
            throw new ArgumentException("BpeModelFile: a pattern with a line break in it cannot be saved on one line; write \\n in the pattern instead.", nameof(pattern));

        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        writer.NewLine = "\n";
        writer.WriteLine(Header);
        writer.WriteLine(pattern is null ? "pattern" : $"pattern {pattern}");
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"special {specialTokens.Count}"));
        foreach (var (token, id) in specialTokens.OrderBy(s => s.Value))
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{token} {id}"));
        var merges = vocabulary.Merges;
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"merges {merges.Count}"));
        foreach (var (left, right, id) in merges)
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{left} {right}    # '{vocabulary.Display(left)}' + '{vocabulary.Display(right)}' -> '{vocabulary.Display(id)}'"));
    }

    public static Contents Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No BPE model file at {path}.", path);
        var lines = File.ReadAllLines(path, Encoding.UTF8);
        var at = 0;
        string Next(string what) => at < lines.Length ? lines[at++]
            : throw new InvalidDataException($"{path}: the file ends at line {lines.Length}, before {what}.");
        InvalidDataException Bad(string message) => new($"{path}, line {at}: {message}");
        int Count(string line, string keyword)
        {
            if (!line.StartsWith(keyword + " ", StringComparison.Ordinal)
                || !int.TryParse(line.AsSpan(keyword.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                throw Bad($"expected '{keyword} <count>', found '{line}'.");
            return n;
        }

        var header = Next("the header");
        if (header != Header) throw Bad($"expected the header '{Header}', found '{header}' (is this a model file from this course?).");

        var patternLine = Next("the pattern line");
        string? pattern = patternLine == "pattern" ? null
            : patternLine.StartsWith("pattern ", StringComparison.Ordinal) ? patternLine["pattern ".Length..]
            : throw Bad($"expected 'pattern <regex>' or 'pattern', found '{patternLine}'.");

        var specialTokens = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var n = Count(Next("the special token count"), "special"); n > 0; n--)
        {
            var line = Next("a special token");
            var space = line.LastIndexOf(' ');
            if (space <= 0 || !int.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                throw Bad($"expected '<special token> <id>', found '{line}'.");
            if (!specialTokens.TryAdd(line[..space], id)) throw Bad($"the special token '{line[..space]}' is given twice.");
        }

        var merges = new List<BpeMerge>();
        var mergeCount = Count(Next("the merge count"), "merges");
        for (var i = 0; i < mergeCount; i++)
        {
            var line = Next($"merge {i} of {mergeCount}");
            var comment = line.IndexOf('#');
            var fields = (comment >= 0 ? line[..comment] : line).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2
                || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var left)
                || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var right))
                throw Bad($"expected '<left id> <right id>', found '{line}'.");
            if (left >= 256 + i || right >= 256 + i)
                throw Bad($"merge {i} ({left}, {right}) uses an id not made yet (ids so far: 0 to {256 + i - 1}).");
            merges.Add(new BpeMerge(left, right, 256 + i));
        }
        while (at < lines.Length)
            if (Next("nothing").Trim().Length > 0) throw Bad("unexpected text after the last merge.");
        return new Contents(pattern, specialTokens, merges);
    }
}
