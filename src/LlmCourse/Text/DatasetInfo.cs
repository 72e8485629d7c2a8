using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Text;

/// <summary>
/// One downloadable dataset: where it lives on the web and how to recognise a good copy.
/// <see cref="Sha256"/> is null for a dataset whose hash could not be read when the catalog was
/// written: its first download is checked against <see cref="Size"/>, its SHA-256 is then recorded
/// in the cache, and every later use is verified against that record (see <see cref="DatasetStore"/>).
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record DatasetInfo(
    string Name,
    string File,
    string Url,
    string? Sha256,
    long Size,
    string Licence,
    string Description,
    string? Revision = null)
{
    /// <summary>True when the catalog itself carries the hash; false when it is recorded at the first download.</summary>
    public bool IsHashPinned => Sha256 is not null;
}
