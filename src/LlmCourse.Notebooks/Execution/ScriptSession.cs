using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using LlmCourse.Notebooks.Kernel;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.CodeAnalysis.Scripting.Hosting;

namespace LlmCourse.Notebooks.Execution;

/// <summary>
/// A notebook's chain of Roslyn script submissions, built the way the .NET Interactive C# kernel
/// builds it: the first cell is <c>CSharpScript.Create</c>, each later one continues from the state the
/// previous one left (<c>ContinueWith</c>), so variables, methods and types declared in a cell are in
/// scope in the cells below it. A cell that fails to compile leaves the chain where it was.
/// <para>Each session has its own <see cref="InteractiveAssemblyLoader"/>: the submissions and every
/// <c>#r</c> DLL load into load contexts of their own, so two runs never share static state, and a
/// DLL's dependencies resolve from the folder it was loaded from.</para>
/// </summary>
sealed class ScriptSession : IDisposable
{
    /// <summary>The kernel's default imports, plus the namespace of the <c>Display()</c> extension.</summary>
    public static readonly string[] Imports =
    [
        "System", "System.Text", "System.Collections", "System.Collections.Generic", "System.Threading.Tasks",
        "System.Linq", typeof(DisplayExtensions).Namespace!,
    ];

    // The whole shared framework, as the kernel references it; metadata is read once per process.
    static readonly Lazy<ImmutableArray<MetadataReference>> frameworkReferences = new(() =>
    {
        var runtimeDirectory = RuntimeEnvironment.GetRuntimeDirectory();
        var trusted = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator);
        return trusted
            .Where(p => p.StartsWith(runtimeDirectory, StringComparison.Ordinal) && p.EndsWith(".dll", StringComparison.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(KernelGlobals).Assembly.Location))
            .ToImmutableArray();
    });

    readonly InteractiveAssemblyLoader loader = new();
    readonly KernelGlobals globals = new();
    readonly ScriptOptions options;
    readonly string notebookDirectory;
    readonly string notebookStem;
    readonly Dictionary<string, int> cellByFile = new(StringComparer.Ordinal);
    ScriptState<object>? state;

    public ScriptSession(string notebookPath)
    {
        notebookDirectory = Path.GetDirectoryName(Path.GetFullPath(notebookPath))!;
        notebookStem = Path.GetFileNameWithoutExtension(notebookPath);
        options = ScriptOptions.Default
            .WithReferences(frameworkReferences.Value)
            .WithImports(Imports)
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(notebookDirectory))
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(notebookDirectory))
            .WithLanguageVersion(LanguageVersion.Latest)
            .WithAllowUnsafe(true)
            // Release code (training loops written in a cell should run at full speed) with line
            // numbers in stack traces, so a runtime error can name the line of the cell.
            .WithOptimizationLevel(OptimizationLevel.Release)
            .WithEmitDebugInformation(true)
            .WithFileEncoding(Encoding.UTF8);
    }

    /// <summary>What a cell produced.</summary>
    public sealed record Outcome(
        IReadOnlyList<Diagnostic> Errors,
        Exception? Exception,
        bool HasValue,
        object? Value);

    /// <summary>The cell a stack frame's file belongs to, or null for library code.</summary>
    public int? CellOf(string? file) => file is not null && cellByFile.TryGetValue(file, out var index) ? index : null;

    public async Task<Outcome> SubmitAsync(string code, int cellIndex, CancellationToken cancel)
    {
        // A file path per cell: Roslyn resolves #r and #load relative to its folder (the notebook's),
        // and stack frames name it, which maps a runtime error back to its cell.
        var file = Path.Combine(notebookDirectory, $"{notebookStem}.cell{cellIndex + 1}.csx");
        cellByFile[file] = cellIndex;
        var cellOptions = options.WithFilePath(file);
        var script = state is null
            ? CSharpScript.Create(code, cellOptions, typeof(KernelGlobals), loader)
            : state.Script.ContinueWith(code, cellOptions);

        var errors = script.Compile(cancel).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0) return new Outcome(errors, null, false, null);

        var hasValue = EndsWithValue(script.GetCompilation());
        // catchException keeps the chain alive after a throw: the next cell continues from here,
        // with what the failing cell defined before it threw (as in the kernel).
        state = state is null
            ? await script.RunAsync(globals, _ => true, cancel).ConfigureAwait(false)
            : await script.RunFromAsync(state, _ => true, cancel).ConfigureAwait(false);
        var exception = state.Exception is { } e ? Unwrap(e) : null;
        return new Outcome([], exception, hasValue && exception is null, state.ReturnValue);
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

    static Exception Unwrap(Exception e) => e switch
    {
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        AggregateException { InnerExceptions.Count: 1 } aggregate => Unwrap(aggregate.InnerExceptions[0]),
        _ => e,
    };

    public void Dispose() => loader.Dispose();
}
