using System.Reflection;
using System.Runtime.Loader;

namespace LlmCourse.Notebooks.Execution;

/// <summary>
/// One run's assemblies: its compiled cells and the DLLs its <c>#r</c> lines name. A notebook's
/// references win over copies the host process happens to carry (the CLI and the test host both have
/// their own LlmCourse.dll): this context is asked first, unlike Roslyn's scripting loader, which lets
/// the host's copies shadow the notebook's. A DLL's dependencies resolve from the folders of the DLLs
/// the notebook referenced, as the .NET Interactive kernel resolves them (Roslyn's
/// InteractiveAssemblyLoader probes the referencing DLL's folder), and from nowhere else: a dependency
/// missing there fails the cell with <see cref="MissingNotebookDependencyException"/>, as it fails in
/// the kernel, instead of quietly borrowing the host's copy (which hid a library build that did not
/// copy System.Numerics.Tensors beside its DLL). The runner's own assembly (the kernel helpers) and
/// the shared framework come from the host, so the helpers' types are the runner's. Collectible:
/// statics of one run are gone when it is unloaded.
/// </summary>
sealed class NotebookLoadContext(string name) : AssemblyLoadContext(name, isCollectible: true)
{
    static readonly string runtimeDirectory = System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory();
    static readonly string hostHelpers = typeof(NotebookLoadContext).Assembly.GetName().Name!;
    readonly Dictionary<string, Assembly> submissions = new(StringComparer.OrdinalIgnoreCase);
    readonly Dictionary<string, string> referencePaths = new(StringComparer.OrdinalIgnoreCase);
    readonly List<string> referenceFolders = [];
    readonly Lock gate = new();

    /// <summary>A DLL named by #r: loaded from here (not from the host) when a cell first needs it.</summary>
    public void AddReference(string path)
    {
        lock (gate)
        {
            referencePaths.TryAdd(Path.GetFileNameWithoutExtension(path), path);
            var folder = Path.GetDirectoryName(path)!;
            if (!referenceFolders.Contains(folder)) referenceFolders.Add(folder);
        }
    }

    public Assembly LoadSubmission(Stream peImage, Stream pdb)
    {
        var assembly = LoadFromStream(peImage, pdb);
        lock (gate) submissions[assembly.GetName().Name!] = assembly;
        return assembly;
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var simpleName = assemblyName.Name!;
        string? path;
        string[] folders;
        lock (gate)
        {
            if (submissions.TryGetValue(simpleName, out var submission)) return submission;
            if (!referencePaths.TryGetValue(simpleName, out path))
            {
                // The framework and the kernel helpers: the host's, the only copies there are.
                if (IsFramework(simpleName) || simpleName == hostHelpers) return null;
                // A dependency of a referenced DLL, beside it.
                path = referenceFolders.Select(f => Path.Combine(f, simpleName + ".dll")).FirstOrDefault(File.Exists);
            }
            folders = [.. referenceFolders];
        }
        return path is null ? throw new MissingNotebookDependencyException(assemblyName, folders) : LoadFromAssemblyPath(path);
    }

    protected override nint LoadUnmanagedDll(string unmanagedDllName)
    {
        // Native libraries shipped beside a referenced DLL (runtimes/ layouts are the library's business).
        string[] folders;
        lock (gate) folders = [.. referenceFolders];
        foreach (var folder in folders)
        {
            var candidate = Path.Combine(folder, unmanagedDllName);
            if (File.Exists(candidate)) return LoadUnmanagedDllFromPath(candidate);
        }
        return 0;
    }

    static bool IsFramework(string simpleName) =>
        File.Exists(Path.Combine(runtimeDirectory, simpleName + ".dll"));
}
