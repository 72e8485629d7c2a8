using System.Globalization;
using System.Text;

namespace LlmCourse.Data;

/// <summary>
/// The normal form deduplication compares: lower case, accents stripped, punctuation and symbols
/// turned into spaces, whitespace collapsed. Two pages that differ only in "Café!" against "cafe"
/// or in a double space become the same string, so exact and near dedup see through trivial edits.
/// </summary>
public static class TextNormalizer
{
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var normal = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var original in text)
        {
            var c = WithoutAccent(original);
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark) continue;
            if (char.IsLetterOrDigit(c))
            {
                if (pendingSpace && normal.Length > 0) normal.Append(' ');
                pendingSpace = false;
                normal.Append(char.ToLowerInvariant(c));
            }
            else pendingSpace = true;   // whitespace, punctuation and symbols all separate words
        }
        return normal.ToString();
    }

    // The course runs with invariant globalization (no ICU), where string.Normalize cannot decompose "é"
    // into "e" and an accent; so the accented letters of the Latin-1 and Latin Extended-A blocks are mapped here,
    // and combining accents (already decomposed text) are dropped above.
    const string Accented = "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿŠšŽžŸ";
    const string Plain = "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYyySsZzY";

    static char WithoutAccent(char c)
    {
        if (c < 'À') return c;
        var at = Accented.IndexOf(c);
        return at >= 0 ? Plain[at] : c;
    }

    /// <summary>The words of the normal form.</summary>
    public static string[] NormalizedWords(string text) =>
        Normalize(text).Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
