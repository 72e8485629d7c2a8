namespace LlmCourse.Tensors.Tests.Parity;

/// <summary>
/// The PyTorch reference files under tests/parity/fixtures, written by tests/parity/make_engine_fixtures.py
/// and read with the engine's own Safetensors.Load (so every parity test also exercises our reader on a
/// file written independently, by hand, from the format's specification).
/// Naming inside engine_ops.safetensors: CASE/in/i, CASE/out/k, CASE/proj/k, CASE/grad/i.
/// </summary>
public static class Fixtures
{
    public static string RepoRoot { get; } = FindRepoRoot();
    public static string Directory { get; } = Path.Combine(RepoRoot, "tests", "parity", "fixtures");

    static readonly Dictionary<string, (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata)> Cache = new();

    /// <summary>All tensors of engine_NAME.safetensors (cached; callers must not modify them: use <see cref="Copy"/>).</summary>
    public static Dictionary<string, Tensor> File(string name) => Load(name).Tensors;

    /// <summary>The file's metadata: for engine_ops, "yardstick/CASE" holds how far float32 PyTorch itself is from the reference.</summary>
    public static Dictionary<string, string> Metadata(string name) => Load(name).Metadata;

    /// <summary>"float32 PyTorch: out X, grad Y" for an op case, to print beside our own difference.</summary>
    public static string Yardstick(string opCase) =>
        Metadata("ops").TryGetValue($"yardstick/{opCase}", out var json) ? $"float32 PyTorch {json}" : "";

    static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out var file))
            {
                var path = Path.Combine(Directory, $"engine_{name}.safetensors");
                if (!System.IO.File.Exists(path))
                    throw new FileNotFoundException(
                        $"{path} is missing: run /usr/bin/python3 tests/parity/make_engine_fixtures.py", path);
                Cache[name] = file = Safetensors.LoadWithMetadata(path);
            }
            return file;
        }
    }

    public static Tensor Get(string file, string key) =>
        File(file).TryGetValue(key, out var t) ? t
            : throw new KeyNotFoundException($"engine_{file}.safetensors has no tensor '{key}'");

    public static bool Has(string file, string key) => File(file).ContainsKey(key);

    /// <summary>A fresh leaf with the same values, so a test may set RequiresGrad without touching the cache.</summary>
    public static Tensor Copy(Tensor t) => t.DType == DType.Int32
        ? Tensor.FromArray(t.ToInt32Array(), t.Shape)
        : t.Rank == 0 ? Tensor.Scalar(t.Item())   // FromArray with no shape makes a 1-D tensor
        : Tensor.FromArray(t.ToArray(), t.Shape);

    /// <summary>Tensors named PREFIX/0, PREFIX/1, ... in order.</summary>
    public static List<Tensor> Indexed(string file, string prefix)
    {
        var list = new List<Tensor>();
        while (File(file).TryGetValue($"{prefix}/{list.Count}", out var t)) list.Add(t);
        return list;
    }

    /// <summary>The op case names in engine_ops.safetensors (everything before "/out/" or "/in/").</summary>
    public static SortedSet<string> OpCaseNames() =>
        new(File("ops").Keys.Select(k => k.Split('/')).Where(p => p.Length == 3 && p[1] is "in" or "out").Select(p => p[0]),
            StringComparer.Ordinal);

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "course.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException($"no course.sln above {AppContext.BaseDirectory}");
    }
}
