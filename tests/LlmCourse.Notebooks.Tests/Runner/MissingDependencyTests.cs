using LlmCourse.Notebooks.Execution;
using LlmCourse.Notebooks.Model;
using LlmCourse.Notebooks.Tests.Support;

namespace LlmCourse.Notebooks.Tests.Runner;

/// <summary>
/// The runner fails where the .NET Interactive kernel fails: a DLL the notebook references needs an
/// assembly that is not beside it. This test host carries System.Numerics.Tensors itself (it references
/// the course library), which is exactly the copy the runner once lent the notebook, hiding a library
/// build that the kernel could not load.
/// </summary>
[Collection(NotebookRunsCollection.Name)]
public sealed class MissingDependencyTests : IDisposable
{
    readonly FixtureFolder folder = new();

    public void Dispose() => folder.Dispose();

    const string Cell = "(Tensor.Ones(3) + Tensor.Ones(3)).Sum().Item()";

    string NotebookWith(string libraryFolder)
    {
        var path = Path.Combine(folder.Path, "uses-tensors.ipynb");
        var notebook = Notebook.Create(
            Notebooks.Model.Cell.Code($"#r \"{libraryFolder}/LlmCourse.Tensors.dll\"\nusing LlmCourse.Tensors;"),
            Notebooks.Model.Cell.Code(Cell));
        NotebookWriter.Save(notebook, path);
        return path;
    }

    /// <summary>The engine's DLL from this test's output, copied alone or with its dependency.</summary>
    string LibraryFolder(string name, bool withDependency)
    {
        var lib = Directory.CreateDirectory(Path.Combine(folder.Path, name)).FullName;
        File.Copy(Path.Combine(AppContext.BaseDirectory, "LlmCourse.Tensors.dll"), Path.Combine(lib, "LlmCourse.Tensors.dll"));
        if (withDependency)
            File.Copy(Path.Combine(AppContext.BaseDirectory, "System.Numerics.Tensors.dll"), Path.Combine(lib, "System.Numerics.Tensors.dll"));
        return name;
    }

    [Fact]
    public async Task ADependencyMissingBesideTheReferencedDll_FailsTheCell_NamingTheAssemblyAndWhatToDo()
    {
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "System.Numerics.Tensors.dll")), "the host must carry its own copy for this test to mean anything");
        var path = NotebookWith(LibraryFolder("lib-alone", withDependency: false));

        var run = await NotebookRunner.RunAsync(path, cancel: TestContext.Current.CancellationToken);

        var failure = Assert.Single(run.Failures);
        Assert.Equal(2, failure.CellNumber);
        Assert.Equal(FailureKind.Runtime, failure.Kind);
        var error = Assert.Single(run.Executed.Cells[1].Outputs, o => o.Kind == OutputKind.Error);
        // The message the CLI prints and the notebook's error output say what is missing, where, and what to do.
        foreach (var text in new[] { failure.Message, error.ErrorValue! })
        {
            Assert.Contains("'System.Numerics.Tensors, Version=", text);
            Assert.Contains("not beside the DLLs this notebook's #r lines load", text);
            Assert.Contains(Path.Combine(folder.Path, "lib-alone"), text);
            Assert.Contains("CopyLocalLockFileAssemblies", text);
        }
    }

    [Fact]
    public async Task TheSameDll_WithItsDependencyBesideIt_Runs()
    {
        var path = NotebookWith(LibraryFolder("lib-complete", withDependency: true));

        var run = await NotebookRunner.RunAsync(path, cancel: TestContext.Current.CancellationToken);

        Assert.True(run.Succeeded, string.Join("\n", run.Failures));
        Assert.Equal("6", Assert.Single(run.Executed.Cells[1].Outputs).GetText(MimeBundle.PlainText));
    }

    [Fact]
    public void TheCourseLibraryBuild_CarriesEveryDependencyBesideTheDllsTheLessonsReference()
    {
        // What `dotnet build -c Release` leaves where the lessons' #r lines point.
        foreach (var project in new[] { "LlmCourse", "LlmCourse.Tensors" })
        {
            var release = Path.Combine(Repository.Root, "artifacts", "bin", project, "release");
            Assert.True(File.Exists(Path.Combine(release, "System.Numerics.Tensors.dll")),
                $"{release} has no System.Numerics.Tensors.dll: the kernel could not run the lessons (CopyLocalLockFileAssemblies in {project}.csproj)");
        }
    }
}
