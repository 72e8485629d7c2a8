using System.Globalization;
using System.Text;

namespace LlmCourse.Tokenizers;

/// <summary>
/// tiktoken's rank files (<c>r50k_base.tiktoken</c>, …): one token per line, its bytes in base64, a
/// space, its rank. Nothing else: the pattern and the special tokens are not in the file.
/// </summary>
public static class TiktokenFile
{
    /// <summary>Ranks above this are refused: a vocabulary that size is a corrupt file, not a tokenizer.</summary>
    const int MaxRank = 10_000_000;

    /// <summary>Token bytes indexed by rank (null where the file gives no token that rank).</summary>
    public static byte[]?[] Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No tiktoken rank file at {path}.", path);
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Read(reader, path);
    }

    public static byte[]?[] Read(TextReader reader, string source)
    {
        var tokens = new List<byte[]?>();
        var rankLine = new List<int>();   // line where each rank was given
        var tokenLine = new Dictionary<byte[], (int Rank, int Line)>(ByteSequenceComparer.Instance);
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue; // tiktoken skips empty lines too
            string Where() => $"{source}, line {lineNumber}";

            var space = line.IndexOf(' ');
            if (space < 0 || line.IndexOf(' ', space + 1) >= 0)
                throw new InvalidDataException($"{Where()}: expected '<base64 token> <rank>', found '{Shorten(line)}'.");
            var (base64, rankText) = (line[..space], line[(space + 1)..]);

            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(base64);
            }
            catch (FormatException)
            {
                throw new InvalidDataException($"{Where()}: the token '{Shorten(base64)}' is not valid base64.");
            }
            if (bytes.Length == 0) throw new InvalidDataException($"{Where()}: the token is empty.");
            if (!int.TryParse(rankText, NumberStyles.None, CultureInfo.InvariantCulture, out var rank))
                throw new InvalidDataException($"{Where()}: the rank '{Shorten(rankText)}' is not a non-negative integer.");
            if (rank >= MaxRank)
                throw new InvalidDataException($"{Where()}: the rank {rank} is too large (at most {MaxRank - 1:N0}).");

            while (tokens.Count <= rank)
            {
                tokens.Add(null);
                rankLine.Add(0);
            }
            if (tokens[rank] is not null)
                throw new InvalidDataException($"{Where()}: rank {rank} was already given on line {rankLine[rank]}.");
            if (tokenLine.TryGetValue(bytes, out var earlier))
                throw new InvalidDataException(
                    $"{Where()}: the token {BpeVocabulary.Display(bytes)} ('{base64}') already has rank {earlier.Rank} on line {earlier.Line}.");
            tokens[rank] = bytes;
            rankLine[rank] = lineNumber;
            tokenLine[bytes] = (rank, lineNumber);
        }
        if (tokenLine.Count == 0) throw new InvalidDataException($"{source}: the file has no ranks.");
        return tokens.ToArray();
    }

    /// <summary>Writes every token of the vocabulary, in rank order.</summary>
    public static void Write(string path, BpeVocabulary vocabulary)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        writer.NewLine = "\n";
        for (var id = 0; id < vocabulary.Count; id++)
            if (vocabulary.Contains(id))
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Convert.ToBase64String(vocabulary.BytesOf(id))} {id}"));
    }

    static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
