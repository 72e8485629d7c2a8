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
        var decomposed = text.Normalize(NormalizationForm.FormD);   // "é" → "e" + combining accent
        var normal = new StringBuilder(decomposed.Length);
        var pendingSpace = false;
        foreach (var c in decomposed)
        {
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

    /// <summary>The words of the normal form.</summary>
    public static string[] NormalizedWords(string text) =>
        Normalize(text).Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
