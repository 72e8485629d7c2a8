using LlmCourse.Notebooks.Execution;
using LlmCourse.Notebooks.Model;
using LlmCourse.Notebooks.Tests.Support;

namespace LlmCourse.Notebooks.Tests.Runner;

/// <summary>The headless runner against fixture notebooks, one behaviour of the C# kernel each.</summary>
[Collection(NotebookRunsCollection.Name)]
public sealed class RunnerTests : IDisposable
{
    readonly FixtureFolder folder = new();

    public void Dispose() => folder.Dispose();

    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    static Output Only(Cell cell, OutputKind kind) => Assert.Single(cell.Outputs, o => o.Kind == kind);

    [Fact]
    public async Task Success_ChainsCells_CapturesStreams_AndFormatsTheLastExpression()
    {
        var run = await NotebookRunner.RunAsync(folder.Copy("success.ipynb"), cancel: Cancel);

        Assert.True(run.Succeeded, string.Join("\n", run.Failures));
        var cells = run.Executed.Cells;
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], run.Executed.CodeCells.Select(c => c.ExecutionCount!.Value));
        Assert.Equal("x is 3\n", Only(cells[1], OutputKind.Stream).Text);
        var square = Only(cells[2], OutputKind.ExecuteResult);
        Assert.Equal("10", square.GetText(MimeBundle.PlainText));
        Assert.Equal(2, square.ExecutionCount);
        // stderr and stdout are separate streams, in the order written; a void call has no value.
        Assert.Equal([("stderr", "a warning\n"), ("stdout", "done\n")], cells[3].Outputs.Select(o => (o.Name, o.Text)));
        Assert.Empty(cells[4].Outputs);
        Assert.Equal("[ 1, 2, 3 ]", Only(cells[5], OutputKind.ExecuteResult).GetText(MimeBundle.PlainText));
        Assert.Equal("[ 0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169, 196, 225, 256, 289, 324, 361 ... (5 more) ]",
            Only(cells[6], OutputKind.ExecuteResult).GetText(MimeBundle.PlainText));
        Assert.Equal("async works", Only(cells[7], OutputKind.ExecuteResult).GetText(MimeBundle.PlainText));
        Assert.Equal("full", run.Executed.Metadata["llmcourse"]!["mode"]!.GetValue<string>());
    }

    [Fact]
    public async Task CompileError_NamesNotebookCellAndLine_AndStopsTheRun()
    {
        var path = folder.Copy("compile-error.ipynb");

        var run = await NotebookRunner.RunAsync(path, cancel: Cancel);

        var failure = Assert.Single(run.Failures);
        Assert.Equal(FailureKind.Compile, failure.Kind);
        Assert.Equal(2, failure.CellNumber);
        Assert.Equal(2, failure.Line);
        Assert.Equal(9, failure.Column);
        Assert.Contains("CS0103", failure.Message);
        Assert.Contains("undefinedName", failure.Message);
        var message = failure.ToString();
        Assert.StartsWith($"{path}, cell 2, line 2: CS0103", message);
        Assert.Contains("> var y = undefinedName + 1;", message);
        var error = Only(run.Executed.Cells[1], OutputKind.Error);
        Assert.Contains("(2,9): error CS0103", error.ErrorValue);
        // The run stopped: the third cell has no count and no output.
        Assert.Null(run.Executed.Cells[2].ExecutionCount);
        Assert.Empty(run.Executed.Cells[2].Outputs);
        Assert.Equal(2, run.Cells.Count);
    }

    [Fact]
    public async Task CompileError_WithContinueOnError_RunsTheRestFromTheLastGoodState()
    {
        var run = await NotebookRunner.RunAsync(folder.Copy("compile-error.ipynb"), new RunOptions { ContinueOnError = true }, Cancel);

        Assert.Single(run.Failures);
        Assert.Equal(3, run.Cells.Count);
        Assert.Equal("not reached\n", Only(run.Executed.Cells[2], OutputKind.Stream).Text);
    }

    [Fact]
    public async Task RuntimeError_NamesTheExceptionAndTheLineInTheCell_AndWhereItWasThrown()
    {
        var path = folder.Copy("runtime-error.ipynb");

        var run = await NotebookRunner.RunAsync(path, cancel: Cancel);

        var failure = Assert.Single(run.Failures);
        Assert.Equal(FailureKind.Runtime, failure.Kind);
        Assert.Equal(2, failure.CellNumber);
        Assert.Equal(3, failure.Line);
        Assert.Equal("System.InvalidOperationException", failure.ErrorName);
        Assert.Contains("cannot divide by zero", failure.Message);
        Assert.Contains("thrown in code from cell 1, line 4", failure.Message);
        Assert.StartsWith($"{path}, cell 2, line 3: System.InvalidOperationException: cannot divide by zero", failure.ToString());
        var cell = run.Executed.Cells[1];
        // What the cell printed before it threw is kept, then the error.
        Assert.Equal([OutputKind.Stream, OutputKind.Error], cell.Outputs.Select(o => o.Kind));
        var error = cell.Outputs[1];
        Assert.Equal("System.InvalidOperationException", error.ErrorName);
        Assert.Contains(error.Traceback, l => l.Contains("Divide in cell 1, line 4"));
        Assert.Contains(error.Traceback, l => l.Contains("cell 2, line 3"));
        Assert.Null(run.Executed.Cells[2].ExecutionCount);
    }

    [Fact]
    public async Task RuntimeError_WithContinueOnError_KeepsWhatTheCellDefinedBeforeItThrew()
    {
        var run = await NotebookRunner.RunAsync(folder.Copy("runtime-error.ipynb"), new RunOptions { ContinueOnError = true }, Cancel);

        Assert.Single(run.Failures);
        Assert.Equal("after the error, ok = 2\n", Only(run.Executed.Cells[2], OutputKind.Stream).Text);
    }

    [Fact]
    public async Task Display_ShowsValuesWhereTheyWereMade_AndUpdateReplacesThemInPlace()
    {
        var changes = new List<(int Cell, string Text)>();
        var run = await NotebookRunner.RunAsync(folder.Copy("display-update.ipynb"),
            new RunOptions { Observer = new Recorder(changes) }, Cancel);

        Assert.True(run.Succeeded, string.Join("\n", run.Failures));
        var first = run.Executed.Cells[0].Outputs;
        Assert.Equal([OutputKind.DisplayData, OutputKind.ExecuteResult], first.Select(o => o.Kind));
        Assert.Equal("third, from a later cell", first[0].GetText(MimeBundle.PlainText));
        Assert.Equal("<b>bold</b>", first[1].GetText(MimeBundle.Html));
        Assert.Null(first[1].GetText(MimeBundle.PlainText));

        var second = run.Executed.Cells[1].Outputs;
        Assert.Equal([OutputKind.Stream, OutputKind.DisplayData, OutputKind.Stream], second.Select(o => o.Kind));
        Assert.Equal("42", second[1].GetText(MimeBundle.PlainText));

        var third = Assert.Single(run.Executed.Cells[2].Outputs);
        Assert.Equal("done", third.GetText(MimeBundle.PlainText));
        Assert.Equal(["first", "second", "1", "third, from a later cell", "42", "done"], changes.Select(c => c.Text));
        Assert.Equal([0, 0, 1, 0, 1, 2], changes.Select(c => c.Cell));
    }

    [Fact]
    public async Task Reference_LoadsADllRelativeToTheNotebook_WithItsDependencyFromTheSameFolder()
    {
        var path = folder.Copy("reference.ipynb");
        FixtureLibrary.Build(folder.Path);

        var run = await NotebookRunner.RunAsync(path, cancel: Cancel);

        Assert.True(run.Succeeded, string.Join("\n", run.Failures));
        Assert.Equal("Hello, NOTEBOOK!", Only(run.Executed.Cells[2], OutputKind.ExecuteResult).GetText(MimeBundle.PlainText));
    }

    [Fact]
    public async Task FormatterConvention_RendersAttributedTypes_InheritedToo_AndFallsBackWhenDeclined()
    {
        var path = folder.Copy("reference.ipynb");
        FixtureLibrary.Build(folder.Path);

        var run = await NotebookRunner.RunAsync(path, cancel: Cancel);

        var smiley = Only(run.Executed.Cells[3], OutputKind.ExecuteResult);
        Assert.Equal("<span class=\"smiley\">:) plain</span>", smiley.GetText(MimeBundle.Html));
        Assert.Equal(":) plain", smiley.GetText(MimeBundle.PlainText));
        Assert.Equal(["text/html", "text/plain"], smiley.Data.Select(d => d.Key));
        var big = Only(run.Executed.Cells[4], OutputKind.DisplayData);
        Assert.Equal("<span class=\"smiley\">:) inherited</span>", big.GetText(MimeBundle.Html));
        var shy = Only(run.Executed.Cells[5], OutputKind.ExecuteResult);
        Assert.Equal(["text/plain"], shy.Data.Select(d => d.Key));
        Assert.Equal("shy", shy.GetText(MimeBundle.PlainText));
    }

    [Fact]
    public async Task RelativeNotebookPath_ResolvesReferencesFromTheNotebookFolder()
    {
        var path = Path.GetRelativePath(Environment.CurrentDirectory, folder.Copy("reference.ipynb"));
        FixtureLibrary.Build(folder.Path);

        var run = await NotebookRunner.RunAsync(path, cancel: Cancel);

        Assert.True(run.Succeeded, string.Join("\n", run.Failures));
        Assert.Equal(path, run.Path);
    }

    [Fact]
    public async Task Load_RunsACsxFileRelativeToTheNotebook()
    {
        var run = await NotebookRunner.RunAsync(folder.Copy("load.ipynb"), cancel: Cancel);

        Assert.True(run.Succeeded, string.Join("\n", run.Failures));
        Assert.Equal("LOADED!", Only(run.Executed.Cells[0], OutputKind.ExecuteResult).GetText(MimeBundle.PlainText));
    }

    [Fact]
    public async Task NuGetReference_FailsWithAnOfflineExplanation()
    {
        var path = folder.Copy("nuget.ipynb");

        var run = await NotebookRunner.RunAsync(path, cancel: Cancel);

        var failure = Assert.Single(run.Failures);
        Assert.Equal(FailureKind.Directive, failure.Kind);
        Assert.Equal(2, failure.CellNumber);
        Assert.Equal(1, failure.Line);
        Assert.Contains("offline", failure.Message);
        Assert.Contains("Plotly.NET", failure.Message);
        Assert.Contains("dotnet build -c Release", failure.Message);
        Assert.Contains("#r \"../artifacts/bin/LlmCourse/release/LlmCourse.dll\"", failure.Message);
        Assert.Equal(OutputKind.Error, Assert.Single(run.Executed.Cells[1].Outputs).Kind);
    }

    [Fact]
    public async Task Quick_SetsTheVariableForTheRunOnly_AndRecordsTheMode()
    {
        var before = Environment.GetEnvironmentVariable(NotebookRunner.QuickVariable);
        var notebook = Notebook.Create(Cell.Code("Environment.GetEnvironmentVariable(\"LLMCOURSE_QUICK\")"));
        var path = Path.Combine(folder.Path, "quick.ipynb");

        var quick = await NotebookRunner.RunAsync(notebook, path, new RunOptions { Quick = true }, Cancel);

        Assert.Equal("1", Only(quick.Executed.Cells[0], OutputKind.ExecuteResult).GetText(MimeBundle.PlainText));
        Assert.Equal("quick", quick.Executed.Metadata["llmcourse"]!["mode"]!.GetValue<string>());
        Assert.Equal(before, Environment.GetEnvironmentVariable(NotebookRunner.QuickVariable));
        Assert.Empty(notebook.Cells[0].Outputs);
    }

    [Fact]
    public async Task Runs_AreIsolated_StaticsAndVariablesDoNotLeak()
    {
        var path = Path.Combine(folder.Path, "isolated.ipynb");
        var first = Notebook.Create(Cell.Code("var secret = 42;\nsecret"));
        var second = Notebook.Create(Cell.Code("secret"));

        await NotebookRunner.RunAsync(first, path, cancel: Cancel);
        var run = await NotebookRunner.RunAsync(second, path, cancel: Cancel);

        Assert.Equal(FailureKind.Compile, Assert.Single(run.Failures).Kind);
    }

    [Fact]
    public async Task ReferencedDll_WinsOverTheHostsCopy_OfTheSameName()
    {
        // This test process has the real LlmCourse.dll loaded; the notebook names another one.
        Assert.Equal("LlmCourse", typeof(LlmCourse.Course).Assembly.GetName().Name);
        Assert.Contains(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "LlmCourse");
        FixtureLibrary.BuildImpostor(folder.Path);
        var notebook = Notebook.Create(Cell.Code("#r \"impostor/LlmCourse.dll\"\nImpostor.Marker.Where"));

        var run = await NotebookRunner.RunAsync(notebook, Path.Combine(folder.Path, "impostor.ipynb"), cancel: Cancel);

        Assert.True(run.Succeeded, string.Join("\n", run.Failures));
        Assert.Equal("the notebook's own LlmCourse.dll", Only(run.Executed.Cells[0], OutputKind.ExecuteResult).GetText(MimeBundle.PlainText));
    }

    [Fact]
    public async Task CellsWithoutCode_CommentsOrOnlyAReference_StillCountForTheCellsBelow()
    {
        FixtureLibrary.Build(folder.Path);
        var notebook = Notebook.Create(
            Cell.Code("// nothing but a comment"), Cell.Code("#r \"lib/FixtureLib.dll\""), Cell.Code("using FixtureLib;"),
            Cell.Code("Greeter.Greet(\"below\")"));

        var run = await NotebookRunner.RunAsync(notebook, Path.Combine(folder.Path, "empty-cells.ipynb"), cancel: Cancel);

        Assert.True(run.Succeeded, string.Join("\n", run.Failures));
        Assert.Equal("Hello, BELOW!", Only(run.Executed.Cells[3], OutputKind.ExecuteResult).GetText(MimeBundle.PlainText));
        Assert.All(run.Executed.Cells.Take(3), c => Assert.Empty(c.Outputs));
    }

    [Fact]
    public async Task StaticsOfReferencedDlls_StartAfreshInEachRun()
    {
        FixtureLibrary.Build(folder.Path);
        var notebook = Notebook.Create(Cell.Code("#r \"lib/FixtureLib.dll\"\nFixtureLib.Counter.Next();\nFixtureLib.Counter.Next()"));
        var path = Path.Combine(folder.Path, "counter.ipynb");

        var first = await NotebookRunner.RunAsync(notebook, path, cancel: Cancel);
        var second = await NotebookRunner.RunAsync(notebook, path, cancel: Cancel);

        Assert.Equal("2", Only(first.Executed.Cells[0], OutputKind.ExecuteResult).GetText(MimeBundle.PlainText));
        Assert.Equal("2", Only(second.Executed.Cells[0], OutputKind.ExecuteResult).GetText(MimeBundle.PlainText));
    }

    [Fact]
    public async Task Fault_ACellThatNeverReturns_IsGivenUpOnAfterTheTimeout_NamedWithTheOption()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = await NotebookRunner.RunAsync(folder.Copy("never-returns.ipynb"),
            new RunOptions { CellTimeout = TimeSpan.FromSeconds(1), ContinueOnError = true }, Cancel);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the run took {clock.Elapsed}");
        var failure = Assert.Single(run.Failures);
        Assert.Equal(3, failure.CellNumber);
        Assert.Equal(typeof(CellTimeoutException).FullName, failure.ErrorName);
        Assert.Contains("cell 3 did not finish within 1 s", failure.Message);
        Assert.Contains("--cell-timeout", failure.Message);
        // Even with ContinueOnError the run stops: the cell may still be running, the next would race it.
        Assert.Equal(2, run.Cells.Count);
        Assert.Null(run.Executed.Cells[3].ExecutionCount);
        Assert.Equal("before\n", Only(run.Executed.Cells[1], OutputKind.Stream).Text);
    }

    [Fact]
    public async Task CellTimeout_DoesNotStopCellsThatFinishInTime()
    {
        var run = await NotebookRunner.RunAsync(folder.Copy("success.ipynb"), new RunOptions { CellTimeout = TimeSpan.FromMinutes(5) }, Cancel);

        Assert.True(run.Succeeded, string.Join("\n", run.Failures));
        Assert.Equal(run.CodeCellCount, run.Cells.Count);
    }

    [Theory]
    [InlineData("python3", "python", "Python 3 (ipykernel)")]
    [InlineData(".net-fsharp", "F#", ".NET (F#)")]
    public async Task Fault_ANotebookOfAnotherKernel_IsRefused_NamingTheKernel(string name, string language, string display)
    {
        var path = Path.Combine(folder.Path, "other.ipynb");
        var notebook = Notebook.Create(Cell.Code("print('hello')"));
        notebook.Metadata["kernelspec"] = new System.Text.Json.Nodes.JsonObject { ["name"] = name, ["language"] = language, ["display_name"] = display };
        NotebookWriter.Save(notebook, path);

        var e = await Assert.ThrowsAsync<NotebookFormatException>(() => NotebookRunner.RunAsync(path, cancel: Cancel));

        Assert.StartsWith($"{path}: its kernel is '{display}'", e.Message);
        Assert.Contains($"kernelspec name '{name}'", e.Message);
        Assert.Contains(".NET C# notebooks only", e.Message);
    }

    [Fact]
    public async Task CellOfAnotherKernel_IsReportedNotRun()
    {
        var cell = Cell.Code("printfn \"hi\"");
        cell.Metadata["polyglot_notebook"]!["kernelName"] = "fsharp";
        var run = await NotebookRunner.RunAsync(Notebook.Create(cell), Path.Combine(folder.Path, "fs.ipynb"), cancel: Cancel);

        Assert.Contains("'fsharp' kernel", Assert.Single(run.Failures).Message);
    }

    [Fact]
    public async Task MagicCommand_CsharpIsAccepted_OthersAreNamed()
    {
        var run = await NotebookRunner.RunAsync(
            Notebook.Create(Cell.Code("#!csharp\n1 + 2"), Cell.Code("#!time\n1")),
            Path.Combine(folder.Path, "magic.ipynb"), cancel: Cancel);

        Assert.Equal("3", Only(run.Executed.Cells[0], OutputKind.ExecuteResult).GetText(MimeBundle.PlainText));
        var failure = Assert.Single(run.Failures);
        Assert.Contains("#!time", failure.Message);
        Assert.Equal(1, failure.Line);
    }

    sealed class Recorder(List<(int, string)> changes) : IRunObserver
    {
        public void DisplayChanged(int cellIndex, string plainText) => changes.Add((cellIndex, plainText));
    }
}
