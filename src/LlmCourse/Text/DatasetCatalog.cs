using System.Reflection;
using System.Text.Json;

namespace LlmCourse.Text;

/// <summary>
/// The datasets the course can download, read from <c>datasets/catalog.json</c> (embedded in this
/// assembly so notebooks need no path to it).
/// </summary>
public static class DatasetCatalog
{
    static readonly Lazy<IReadOnlyList<DatasetInfo>> all = new(Load);

    public static IReadOnlyList<DatasetInfo> All => all.Value;

    public static DatasetInfo Get(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException(
            $"No dataset named '{name}' in the catalog. Known: {string.Join(", ", All.Select(d => d.Name))}.");

    static IReadOnlyList<DatasetInfo> Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("LlmCourse.datasets.catalog.json")
            ?? throw new InvalidOperationException("The dataset catalog is missing from the LlmCourse assembly.");
        using var doc = JsonDocument.Parse(stream);
        return doc.RootElement.GetProperty("datasets").EnumerateArray()
            .Select(e => new DatasetInfo(
                e.GetProperty("name").GetString()!,
                e.GetProperty("file").GetString()!,
                e.GetProperty("url").GetString()!,
                e.GetProperty("sha256").GetString(),   // null: recorded at the first download
                e.GetProperty("size").GetInt64(),
                e.GetProperty("licence").GetString()!,
                e.GetProperty("description").GetString()!,
                e.TryGetProperty("revision", out var revision) ? revision.GetString() : null))
            .ToArray();
    }
}
