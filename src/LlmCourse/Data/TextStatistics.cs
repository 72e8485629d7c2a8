using System.Text.RegularExpressions;

namespace LlmCourse.Data;

/// <summary>The pieces of a document the quality rules measure: words, lines, paragraphs, and their repeats.</summary>
public static partial class TextStatistics
{
    /// <summary>Whitespace-separated tokens with the punctuation around them stripped; tokens of punctuation alone are dropped.</summary>
    public static string[] Words(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w.Trim(PunctuationChars))
            .Where(w => w.Length > 0)
            .ToArray();

    /// <summary>Non-empty lines, trimmed.</summary>
    public static string[] Lines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    /// <summary>Paragraphs: text between blank lines.</summary>
    public static string[] Paragraphs(string text) =>
        BlankLines().Split(text.Trim()).Select(p => p.Trim()).Where(p => p.Length > 0).ToArray();

    /// <summary>How many items repeat an earlier one, and their total length in characters (Gopher's find_duplicates).</summary>
    public static (int Count, int Chars) Duplicates(IEnumerable<string> items)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int count = 0, chars = 0;
        foreach (var item in items)
            if (!seen.Add(item)) { count++; chars += item.Length; }
        return (count, chars);
    }

    /// <summary>Characters covered by the single most frequent word n-gram, counted once per occurrence (Gopher's top n-gram).</summary>
    public static int TopNGramChars(string[] words, int n)
    {
        if (words.Length < n) return 0;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i + n <= words.Length; i++)
        {
            var gram = string.Join(' ', words, i, n);
            counts[gram] = counts.GetValueOrDefault(gram) + 1;
        }
        var top = counts.MaxBy(kv => kv.Value);
        return top.Value > 1 ? top.Key.Length * top.Value : 0;
    }

    /// <summary>Characters in word n-grams that repeat an earlier n-gram, scanning left to right and jumping
    /// over a repeat so no word counts twice (Gopher's duplicate n-gram fraction).</summary>
    public static int DuplicateNGramChars(string[] words, int n)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int chars = 0, i = 0;
        while (i + n <= words.Length)
        {
            var gram = string.Join("", words, i, n);
            if (!seen.Add(gram)) { chars += gram.Length; i += n; }
            else i++;
        }
        return chars;
    }

    public static readonly char[] PunctuationChars =
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«»‹›“”‘’„‚–—…¡¿·•".ToCharArray();

    /// <summary>Characters that end a sentence (FineWeb's terminal punctuation, the common ones).</summary>
    public static readonly string[] TerminalPunctuation = [".", "!", "?", "…", "\"", "'", "”", "’", "。", "！", "？"];

    [GeneratedRegex(@"\n\s*\n")]
    private static partial Regex BlankLines();
}
