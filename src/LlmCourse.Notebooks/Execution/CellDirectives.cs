using System.Text;
using System.Text.RegularExpressions;

namespace LlmCourse.Notebooks.Execution;

/// <summary>
/// The kernel-level lines of a cell that Roslyn does not know: <c>#!csharp</c> (kept as a blank line,
/// so line numbers still match the cell) and what the runner cannot do offline, reported before
/// compiling with what to do instead.
/// </summary>
static partial class CellDirectives
{
    public const string OfflineNuGetAdvice =
        "The headless runner is offline and does not restore NuGet packages. Build the library you need and " +
        "reference its DLL instead, with a path relative to the notebook: for the course library run " +
        "`dotnet build -c Release` and use #r \"../artifacts/bin/LlmCourse/release/LlmCourse.dll\".";

    [GeneratedRegex("""^\s*#(r|i)\s+"\s*nuget\s*:""", RegexOptions.IgnoreCase)]
    private static partial Regex NuGetDirective();

    [GeneratedRegex(@"^\s*#!\s*(\S+)")]
    private static partial Regex MagicCommand();

    /// <summary>The cell's code ready for Roslyn, or the problem with the line (1-based) it is on.</summary>
    public static (string Code, (int Line, string Message, string SourceLine)? Problem) Prepare(string source)
    {
        var lines = source.Split('\n');
        var code = new StringBuilder(source.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (NuGetDirective().IsMatch(line))
                return ("", (i + 1, $"{line.Trim()}: {OfflineNuGetAdvice}", line));
            if (MagicCommand().Match(line) is { Success: true } magic)
            {
                var name = magic.Groups[1].Value;
                if (name is not ("csharp" or "c#" or "C#"))
                    return ("", (i + 1,
                        $"the magic command #!{name} is a .NET Interactive kernel feature the headless runner does not have; " +
                        "remove the line (cells are C#).", line));
                line = "";
            }
            if (i > 0) code.Append('\n');
            code.Append(line);
        }
        return (code.ToString(), null);
    }
}
