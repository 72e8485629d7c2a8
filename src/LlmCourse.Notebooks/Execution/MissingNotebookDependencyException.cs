using System.Reflection;

namespace LlmCourse.Notebooks.Execution;

/// <summary>
/// A DLL the notebook's <c>#r</c> lines load needs an assembly that is neither beside it nor part of
/// .NET: the .NET Interactive kernel would fail on it too, so the runner does not lend its own copy.
/// A FileNotFoundException, as the kernel's own failure is, with what to do in the message.
/// </summary>
public sealed class MissingNotebookDependencyException(AssemblyName assembly, IReadOnlyList<string> referenceFolders)
    : FileNotFoundException(Describe(assembly, referenceFolders), assembly.FullName)
{
    public string AssemblyName { get; } = assembly.Name!;

    public IReadOnlyList<string> ReferenceFolders { get; } = referenceFolders;

    static string Describe(AssemblyName assembly, IReadOnlyList<string> folders)
    {
        var where = folders.Count == 0 ? "no #r folder (the notebook has referenced no DLL yet)" : string.Join(", ", folders);
        return $"Could not load '{assembly.FullName}': {assembly.Name}.dll is not beside the DLLs this notebook's #r lines load " +
               $"({where}) and is not part of .NET. The .NET Interactive kernel (VS Code, Jupyter) would not find it either, so the runner " +
               $"does not lend its own copy. Put {assembly.Name}.dll in that folder: a library project copies its NuGet dependencies " +
               "beside its DLL with <CopyLocalLockFileAssemblies>true</CopyLocalLockFileAssemblies> (the course's projects do: run " +
               "`dotnet build -c Release` from the repository root), or add a #r line for it.";
    }
}
