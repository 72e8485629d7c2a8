using System.Security.Cryptography;
using System.Text;

namespace LlmCourse.Data;

/// <summary>
/// Exact deduplication of whole documents on their normal form (<see cref="TextNormalizer"/>):
/// the first copy is kept, every later copy removed. Only a 128-bit hash of each normal form is
/// held, so memory grows with the number of distinct documents, not their size.
/// </summary>
public sealed class DocumentDedup : DocumentFilter
{
    readonly Dictionary<UInt128, string> seen = [];

    public override string Name => "exact dedup (documents)";

    protected override Document? Apply(Document document, StageReport report)
    {
        var key = Hash128(TextNormalizer.Normalize(document.Text));
        if (seen.ContainsKey(key))
        {
            report.Remove(document, "exact duplicate");
            return null;
        }
        seen[key] = document.Id;
        return document;
    }

    /// <summary>The first 128 bits of the SHA-256 of the UTF-8 text: collisions are out of reach at any corpus size.</summary>
    public static UInt128 Hash128(string text)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return new UInt128(BitConverter.ToUInt64(hash[..8]), BitConverter.ToUInt64(hash[8..16]));
    }
}
