using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LlmCourse.Tokenizers;

/// <summary>
/// Splits text into pre-tokens with a regular expression before BPE sees it, so that merges never
/// cross from a word into its punctuation or the next word ("dog." "dog!" "dog?" would otherwise each
/// become tokens). The patterns are tiktoken's, written the way js-tiktoken writes them for a
/// backtracking engine: cl100k's case-insensitive contractions spelled out ('s|'S|…) and no
/// possessive quantifiers (which change nothing here: the class before them cannot match what
/// follows them).
///
/// One difference between .NET's Regex and tiktoken's engines has to be bridged: .NET matches UTF-16
/// code units, tiktoken matches code points. A letter outside the Basic Multilingual Plane (𝐀, 𠀀)
/// is two surrogates to .NET, neither of them in <c>\p{L}</c>, and an emoji is two characters where
/// cl100k's <c>[^\r\n\p{L}\p{N}]?</c> allows one. So text with surrogates is matched on a stand-in:
/// every supplementary code point is replaced by one BMP character of the same Unicode category
/// (a lone surrogate by U+FFFD, which is what tiktoken encodes it as), and the matches are mapped
/// back. Text without surrogates (nearly all) is matched as it is.
/// </summary>
public sealed partial class PreTokenizer
{
    /// <summary>GPT-2's pattern (r50k_base, p50k_base).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>GPT-4's pattern (cl100k_base), as js-tiktoken has it.</summary>
    public const string Cl100kPattern =
        @"('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture;

    [GeneratedRegex(Gpt2Pattern, Options)]
    private static partial Regex Gpt2Regex();

    [GeneratedRegex(Cl100kPattern, Options)]
    private static partial Regex Cl100kRegex();

    public static PreTokenizer Gpt2 { get; } = new(Gpt2Pattern, Gpt2Regex());

    public static PreTokenizer Cl100k { get; } = new(Cl100kPattern, Cl100kRegex());

    /// <summary>The pre-tokenizer for a pattern: the built-in ones for tiktoken's patterns, else compiled.</summary>
    public static PreTokenizer For(string pattern) => pattern switch
    {
        Gpt2Pattern => Gpt2,
        Cl100kPattern => Cl100k,
        _ => new PreTokenizer(pattern, Compile(pattern)),
    };

    static Regex Compile(string pattern)
    {
        try
        {
            return new Regex(pattern, Options | RegexOptions.Compiled);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"PreTokenizer: the pattern {pattern} is not a valid .NET regular expression: {e.Message}", nameof(pattern), e);
        }
    }

    readonly Regex regex;

    PreTokenizer(string pattern, Regex regex)
    {
        Pattern = pattern;
        this.regex = regex;
    }

    public string Pattern { get; }

    /// <summary>The pre-tokens of a text, in order. Characters no alternative matches are dropped, as in tiktoken.</summary>
    public List<string> Split(string text)
    {
        var pieces = new List<string>();
        foreach (var piece in Pieces(text)) pieces.Add(text.Substring(piece.Start, piece.Length));
        return pieces;
    }

    /// <summary>Where each pre-token starts and how long it is, in UTF-16 units of <paramref name="text"/>.</summary>
    public PieceEnumerator Pieces(ReadOnlySpan<char> text)
    {
        if (text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0) return new PieceEnumerator(regex.EnumerateMatches(text), null);
        var (standIn, length, map) = StandIn(text);
        return new PieceEnumerator(regex.EnumerateMatches(standIn.AsSpan(0, length)), map);
    }

    /// <summary>Matches of the pattern, mapped back from the stand-in text when there is one.</summary>
    public ref struct PieceEnumerator(Regex.ValueMatchEnumerator matches, int[]? map)
    {
        Regex.ValueMatchEnumerator matches = matches;

        public (int Start, int Length) Current { get; private set; }

        public readonly PieceEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (!matches.MoveNext()) return false;
            var match = matches.Current;
            Current = map is null
                ? (match.Index, match.Length)
                : (map[match.Index], map[match.Index + match.Length] - map[match.Index]);
            return true;
        }
    }

    /// <summary>
    /// One BMP character per code point, of the same general category, in the first <c>Length</c>
    /// characters of <c>StandIn</c>; <c>map[i]</c> is where stand-in character i starts in the
    /// original, and <c>map[Length]</c> is the original's length. Runs without surrogates (nearly all
    /// of any text) are copied in bulk, so text with the odd emoji costs little more than text without.
    /// </summary>
    static (char[] StandIn, int Length, int[] Map) StandIn(ReadOnlySpan<char> text)
    {
        var standIn = new char[text.Length];
        var map = new int[text.Length + 1];
        int i = 0, j = 0;
        while (i < text.Length)
        {
            var next = text[i..].IndexOfAnyInRange('\uD800', '\uDFFF');
            var run = next < 0 ? text.Length - i : next;
            text.Slice(i, run).CopyTo(standIn.AsSpan(j));
            for (var k = 0; k < run; k++) map[j + k] = i + k;
            (i, j) = (i + run, j + run);
            if (next < 0) break;
            if (Rune.DecodeFromUtf16(text[i..], out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                rune = Rune.ReplacementChar;   // a lone surrogate: tiktoken encodes U+FFFD
                consumed = Math.Max(consumed, 1);
            }
            map[j] = i;
            standIn[j++] = rune.IsBmp ? (char)rune.Value : Representative[(int)Rune.GetUnicodeCategory(rune)];
            i += consumed;
        }
        map[j] = text.Length;
        return (standIn, j, map);
    }

    /// <summary>
    /// For each general category, a non-ASCII BMP character of that category that is not white space
    /// (so it cannot be mistaken for a character a pattern names literally: patterns name ASCII).
    /// </summary>
    static readonly char[] Representative = BuildRepresentatives();

    static char[] BuildRepresentatives()
    {
        var representative = new char[32];
        for (int c = 0xFFFD, found = 0; c >= 0x80 && found < 30; c--)
        {
            if (c is >= 0xD800 and <= 0xDFFF || char.IsWhiteSpace((char)c)) continue;
            var category = (int)char.GetUnicodeCategory((char)c);
            if (representative[category] == '\0') (representative[category], found) = ((char)c, found + 1);
        }
        // Supplementary code points are never white space, controls or surrogates, so those need no
        // stand-in; every other category has a BMP member.
        foreach (var category in Enum.GetValues<UnicodeCategory>())
        {
            if (representative[(int)category] != '\0') continue;
            if (category is UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                or UnicodeCategory.Control or UnicodeCategory.Surrogate)
                representative[(int)category] = '\uFFFD';
            else throw new InvalidOperationException($"PreTokenizer: no BMP character of category {category} to stand in for supplementary ones.");
        }
        return representative;
    }
}
