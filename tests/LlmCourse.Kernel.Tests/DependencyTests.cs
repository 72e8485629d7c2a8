using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using LlmCourse.Kernel.Tests.Support;

namespace LlmCourse.Kernel.Tests;

/// <summary>
/// This process hosts the kernel, so it must not lend the notebooks an assembly that a user's kernel
/// would not have: the kernel resolves a #r DLL's dependencies from that DLL's folder, then from the
/// process it runs in. These tests keep the second place empty of anything the library needs.
/// </summary>
[Trait("Category", "Kernel")]
[Collection(KernelRunsCollection.Name)]
public sealed class DependencyTests
{
    static readonly string runtimeDirectory = RuntimeEnvironment.GetRuntimeDirectory();

    [Fact]
    public void ThisHost_CarriesNoAssemblyTheCourseLibraryReferences_BeyondDotNetItself()
    {
        Repository.RequireReleaseBuild();
        var host = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator)
            .Where(p => !p.StartsWith(runtimeDirectory, StringComparison.Ordinal))
            .Select(Path.GetFileNameWithoutExtension)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var folder = Repository.ReleaseFolder("LlmCourse");
        var needed = Directory.EnumerateFiles(folder, "*.dll")
            .SelectMany(dll => ReferencedAssemblies(dll).Append(Path.GetFileNameWithoutExtension(dll)))
            .Where(name => !File.Exists(Path.Combine(runtimeDirectory, name + ".dll")))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

        Assert.Contains("System.Numerics.Tensors", needed);   // what the check is about
        // Newtonsoft.Json comes with the test platform's host (Microsoft.TestPlatform.TestHost); Plotly.NET needs it
        // too, and the next test checks that a copy sits beside the library, so the kernel lends nothing there.
        var lent = needed.Where(host.Contains).Where(name => !(name == "Newtonsoft.Json" && File.Exists(Path.Combine(folder, name + ".dll")))).ToList();
        Assert.True(lent.Count == 0, $"this test host carries {string.Join(", ", lent)}, which the kernel would then lend the notebooks: keep it out of this project's references");
    }

    [Fact]
    public void EveryAssemblyTheLibraryReferences_IsBesideItOrPartOfDotNet()
    {
        Repository.RequireReleaseBuild();
        foreach (var project in new[] { "LlmCourse", "LlmCourse.Tensors" })
        {
            var folder = Repository.ReleaseFolder(project);
            var missing = Directory.EnumerateFiles(folder, "*.dll")
                .SelectMany(dll => ReferencedAssemblies(dll).Select(name => (dll, name)))
                .Where(r => !File.Exists(Path.Combine(runtimeDirectory, r.name + ".dll")) && !File.Exists(Path.Combine(folder, r.name + ".dll")))
                .Select(r => $"{Path.GetFileName(r.dll)} needs {r.name}")
                .ToList();
            Assert.True(missing.Count == 0, $"{folder}: the kernel would not find: {string.Join(", ", missing)}");
        }
    }

    [Fact]
    public async Task InTheKernel_ADllWithoutItsDependencyBesideIt_Fails_AsForAUser()
    {
        Repository.RequireReleaseBuild();
        var folder = Directory.CreateTempSubdirectory("llmcourse-kernel-alone-").FullName;
        try
        {
            File.Copy(Path.Combine(Repository.ReleaseFolder("LlmCourse.Tensors"), "LlmCourse.Tensors.dll"), Path.Combine(folder, "LlmCourse.Tensors.dll"));
            using var kernel = new KernelSession();
            Assert.Empty((await kernel.SubmitAsync($"#r \"{Path.Combine(folder, "LlmCourse.Tensors.dll")}\"\nusing LlmCourse.Tensors;", TestContext.Current.CancellationToken)).Errors);

            var run = await kernel.SubmitAsync("(Tensor.Ones(3) + Tensor.Ones(3)).Sum().Item()", TestContext.Current.CancellationToken);

            Assert.Contains(run.Errors, e => e.Contains("System.Numerics.Tensors", StringComparison.Ordinal));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    static IEnumerable<string> ReferencedAssemblies(string dll)
    {
        using var stream = File.OpenRead(dll);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata) return [];
        var metadata = pe.GetMetadataReader();
        return metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name)).ToList();
    }
}
