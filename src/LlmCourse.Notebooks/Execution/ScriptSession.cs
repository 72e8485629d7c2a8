using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using LlmCourse.Notebooks.Kernel;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Scripting;

namespace LlmCourse.Notebooks.Execution;

/// <summary>
/// A notebook's chain of C# script submissions, compiled exactly as the .NET Interactive C# kernel
/// compiles them: the first cell is <c>CSharpScript.Create</c>, each later one
/// <c>ContinueWith</c> of the previous, so what a cell declares (and the DLLs it references) is in
/// scope below it, with the kernel helpers as the globals object. A cell that fails to compile
/// leaves the chain where it was; one that throws stays in it, with what it defined before the throw.
/// <para>Only the running differs. Roslyn's own executor loads submissions through a loader that
/// lets the host process's assemblies shadow the notebook's <c>#r</c> DLLs, and a headless host (the
/// CLI, the test runner) carries its own copy of the course library. So each compiled cell is emitted
/// here and loaded into a <see cref="NotebookLoadContext"/> of the run's own: the notebook gets the DLLs
/// it names, and nothing of one run survives into the next.</para>
/// </summary>
sealed class ScriptSession : IDisposable
{
    /// <summary>The kernel's default imports, plus the namespace of the <c>Display()</c> extension.</summary>
    public static readonly string[] Imports =
    [
        "System", "System.Text", "System.Collections", "System.Collections.Generic", "System.Threading.Tasks",
        "System.Linq", typeof(DisplayExtensions).Namespace!,
    ];

    // The whole shared framework, as the kernel references it, and the kernel helpers; read once per process.
    static readonly Lazy<ImmutableArray<MetadataReference>> baseReferences = new(() =>
    {
        var runtimeDirectory = RuntimeEnvironment.GetRuntimeDirectory();
        var trusted = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator);
        return trusted
            .Where(p => p.StartsWith(runtimeDirectory, StringComparison.Ordinal) && p.EndsWith(".dll", StringComparison.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(KernelGlobals).Assembly.Location))
            .ToImmutableArray();
    });

    readonly NotebookLoadContext context;
    readonly ScriptOptions options;
    readonly string notebookDirectory;
    readonly string notebookStem;
    readonly Dictionary<string, int> cellByFile = new(StringComparer.Ordinal);
    Script<object>? previous;
    int submissionCount;
    // Slot 0 holds the globals, slot n + 1 submission n: the compiled cells read earlier cells' state from it.
    object?[] submissionStates = new object?[8];

    public ScriptSession(string notebookPath)
    {
        notebookDirectory = Path.GetDirectoryName(Path.GetFullPath(notebookPath))!;
        notebookStem = Path.GetFileNameWithoutExtension(notebookPath);
        context = new NotebookLoadContext($"notebook {notebookStem} {Guid.NewGuid():N}");
        submissionStates[0] = new KernelGlobals();
        options = ScriptOptions.Default
            .WithReferences(baseReferences.Value)
            .WithImports(Imports)
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(notebookDirectory))
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(notebookDirectory))
            .WithLanguageVersion(LanguageVersion.Latest)
            .WithAllowUnsafe(true)
            // Release code (training loops written in a cell run at full speed); line numbers still
            // reach stack traces through the PDB, so a runtime error names the line of the cell.
            .WithOptimizationLevel(OptimizationLevel.Release)
            .WithEmitDebugInformation(true)
            .WithFileEncoding(Encoding.UTF8);
    }

    /// <summary>What a cell produced.</summary>
    public sealed record Outcome(IReadOnlyList<Diagnostic> Errors, Exception? Exception, bool HasValue, object? Value);

    /// <summary>The cell a stack frame's file belongs to, or null for library code.</summary>
    public int? CellOf(string? file) => file is not null && cellByFile.TryGetValue(file, out var index) ? index : null;

    public async Task<Outcome> SubmitAsync(string code, int cellIndex, CancellationToken cancel, TimeSpan? timeout = null)
    {
        // A file per cell: stack frames name it, which maps a runtime error back to its cell, and #r
        // and #load resolve relative to its folder, the notebook's.
        var file = Path.Combine(notebookDirectory, $"{notebookStem}.cell{cellIndex + 1}.csx");
        cellByFile[file] = cellIndex;
        var cellOptions = options.WithFilePath(file);
        var script = previous is null
            ? CSharpScript.Create(code, cellOptions, typeof(KernelGlobals))
            : previous.ContinueWith(code, cellOptions);
        var compilation = script.GetCompilation();

        using var peImage = new MemoryStream();
        using var pdb = new MemoryStream();
        var emitted = compilation.Emit(peImage, pdb,
            options: new EmitOptions(debugInformationFormat: DebugInformationFormat.PortablePdb), cancellationToken: cancel);
        var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0) return new Outcome(errors, null, false, null);

        // From here the cell is part of the chain, even if it throws: later cells may use what it defined.
        previous = script;
        foreach (var reference in compilation.DirectiveReferences.OfType<PortableExecutableReference>())
            if (reference.FilePath is { } path) context.AddReference(path);
        // A cell of only #r lines, usings or comments has no code: Roslyn emits nothing for it, and
        // there is nothing to run, but its references and usings still count for the cells below.
        if (!emitted.Success) return new Outcome([], null, false, null);

        peImage.Position = 0;
        pdb.Position = 0;
        var assembly = context.LoadSubmission(peImage, pdb);
        var entryPoint = compilation.GetEntryPoint(cancel)
            ?? throw new InvalidOperationException($"Cell {cellIndex + 1} compiled without a submission entry point.");
        var factory = assembly.GetType(entryPoint.ContainingType.MetadataName)!
            .GetMethod(entryPoint.MetadataName, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!;

        submissionCount++;
        if (submissionStates.Length < submissionCount + 1) Array.Resize(ref submissionStates, submissionStates.Length * 2);
        var hasValue = EndsWithValue(compilation);
        try
        {
            var states = submissionStates;
            var running = StartOnOwnThread(() => (Task<object>)factory.Invoke(null, [states])!, $"{notebookStem} cell {cellIndex + 1}");
            if (timeout is { } limit && await Task.WhenAny(running, Task.Delay(limit, cancel)).ConfigureAwait(false) != running)
            {
                cancel.ThrowIfCancellationRequested();
                return new Outcome([], new CellTimeoutException(cellIndex, limit), false, null);
            }
            var value = await running.ConfigureAwait(false);
            return new Outcome([], null, hasValue, value);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return new Outcome([], Unwrap(e), false, null);
        }
    }

    /// <summary>
    /// A cell has a value when its last statement is an expression without a semicolon, as in the
    /// kernel (<c>x + 1</c> shows 4, <c>x + 1;</c> shows nothing), and the expression is not void.
    /// </summary>
    static bool EndsWithValue(Compilation compilation)
    {
        var tree = compilation.SyntaxTrees.Last();
        if (tree.GetRoot() is not CompilationUnitSyntax unit
            || unit.Members.LastOrDefault() is not GlobalStatementSyntax { Statement: ExpressionStatementSyntax statement }
            || !statement.SemicolonToken.IsMissing)
            return false;
        var type = compilation.GetSemanticModel(tree).GetTypeInfo(statement.Expression).Type;
        return type is null || type.SpecialType != SpecialType.System_Void;
    }

    /// <summary>
    /// Starts a cell on a thread of its own, so a cell that never returns (a loop that does not end, a
    /// wait on something that never comes) can be given up on after the timeout even before it reaches
    /// its first await. .NET cannot abort that thread: it is a background thread, left behind, and the
    /// process (the CLI) ends it on exit.
    /// </summary>
    static Task<object> StartOnOwnThread(Func<Task<object>> start, string name)
    {
        var started = new TaskCompletionSource<Task<object>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { started.SetResult(start()); }
            catch (Exception e) { started.SetException(e); }
        }, maxStackSize: 16 << 20) { IsBackground = true, Name = name };
        thread.Start();
        return started.Task.Unwrap();
    }

    static Exception Unwrap(Exception e) => e switch
    {
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        AggregateException { InnerExceptions.Count: 1 } aggregate => Unwrap(aggregate.InnerExceptions[0]),
        _ => e,
    };

    public void Dispose()
    {
        submissionStates = [];
        context.Unload();
    }
}
