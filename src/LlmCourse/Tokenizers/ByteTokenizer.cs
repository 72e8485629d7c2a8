using System.Text;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tokenizers;

/// <summary>
/// Byte-level tokens: a text's UTF-8 bytes are its tokens, so the vocabulary is exactly 256 and no
/// text is ever out of vocabulary, at the price of long sequences (an "é" is two tokens, an emoji
/// four). BPE starts here and merges frequent pairs of these into longer tokens.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed class ByteTokenizer : ITokenizer
{
    public int VocabSize => 256;

    public override string ToString() => "ByteTokenizer: 256 byte tokens (UTF-8)";

    /// <summary>UTF-8 bytes; a lone surrogate becomes U+FFFD's three bytes, as in tiktoken.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.UTF8.GetBytes(text);
        var ids = new int[bytes.Length];
        for (var i = 0; i < bytes.Length; i++) ids[i] = bytes[i];
        return ids;
    }

    /// <summary>Decodes the bytes as UTF-8; bytes that are not valid UTF-8 become U+FFFD.</summary>
    public string Decode(IReadOnlyList<int> ids) => Encoding.UTF8.GetString(DecodeBytes(ids));

    public byte[] DecodeBytes(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new byte[ids.Count];
        for (var i = 0; i < bytes.Length; i++)
            bytes[i] = ids[i] is >= 0 and < 256 ? (byte)ids[i]
                : throw new ArgumentOutOfRangeException(nameof(ids), ids[i], $"ByteTokenizer: token id {ids[i]} at position {i} is not a byte (0 to 255).");
        return bytes;
    }
}
