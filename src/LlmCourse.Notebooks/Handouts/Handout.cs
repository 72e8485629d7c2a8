using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Handouts;

/// <summary>
/// The student copy of a lesson: every line strictly between <c>// ▼ answer</c> and <c>// ▲ answer</c> in a
/// code cell is replaced by one comment line that sends the student to the exercise, and every output is
/// cleared. Everything else (the markers, the stubs above them, markdown, metadata, cell ids) is kept, so
/// the handout runs top to bottom and each exercise's check prints ✗ until the student writes the answer.
/// </summary>
/// <remarks>
/// A marker is a line whose text, without its indentation, is the marker, optionally followed by a space and
/// a note (<c>// ▼ answer (exercise 2)</c>). Markers are read in code cells only: markdown may show them in
/// its text. A region must close in the cell it opens in, and regions do not nest.
/// </remarks>
public static class Handout
{
    public const string AnswerStart = "// ▼ answer";
    public const string AnswerEnd = "// ▲ answer";

    /// <summary>What takes the answer's place, indented like the <c>// ▼ answer</c> line above it.</summary>
    public const string Placeholder = "// your answer here (see the exercise above)";

    /// <summary>
    /// A copy of <paramref name="notebook"/> with its answers stripped and its outputs cleared; the notebook
    /// given is not changed. Throws <see cref="NotebookFormatException"/> naming <paramref name="path"/>, the
    /// cell and the line for an unclosed or nested <c>// ▼ answer</c>, or a <c>// ▲ answer</c> without one.
    /// </summary>
    public static Notebook Strip(Notebook notebook, string path = "<notebook>")
    {
        var handout = notebook.Clone();
        for (var index = 0; index < handout.Cells.Count; index++)
        {
            var cell = handout.Cells[index];
            if (cell.Kind != CellKind.Code) continue;
            var lines = SplitLines(cell.Source);
            var regions = Regions(lines, path, index);
            if (regions.Count > 0)
            {
                var kept = new List<string>();
                var next = 0;
                foreach (var (start, end) in regions)
                {
                    // start and end are 0-based indices of the marker lines; keep both markers.
                    kept.AddRange(lines[next..(start + 1)]);
                    var marker = lines[start];
                    var indentation = marker[..(marker.Length - marker.TrimStart().Length)];
                    kept.Add(indentation + Placeholder + NewlineOf(marker));
                    next = end;
                }
                kept.AddRange(lines[next..]);
                cell.Source = string.Concat(kept);
            }
            cell.Outputs.Clear();
            cell.ExecutionCount = null;
        }
        return handout;
    }

    /// <summary>Every answer region of <paramref name="notebook"/>, in order; errors as <see cref="Strip"/>.</summary>
    public static IReadOnlyList<AnswerRegion> Answers(Notebook notebook, string path = "<notebook>")
    {
        var answers = new List<AnswerRegion>();
        var exercise = "";
        for (var index = 0; index < notebook.Cells.Count; index++)
        {
            var cell = notebook.Cells[index];
            if (cell.Kind == CellKind.Markdown) exercise = ExerciseTitle(cell.Source);
            if (cell.Kind != CellKind.Code) continue;
            foreach (var (start, end) in Regions(SplitLines(cell.Source), path, index))
                answers.Add(new AnswerRegion(index, start + 1, end + 1, exercise));
        }
        return answers;
    }

    /// <summary>Reads <paramref name="notebookPath"/>, strips it and writes the handout to <paramref name="handoutPath"/> (atomically).</summary>
    public static int Save(string notebookPath, string handoutPath)
    {
        var notebook = NotebookReader.Load(notebookPath);
        var answers = Answers(notebook, notebookPath).Count;
        NotebookWriter.Save(Strip(notebook, notebookPath), handoutPath);
        return answers;
    }

    /// <summary>The (▼, ▲) line indices of each region of one cell's lines, checked for pairing.</summary>
    static List<(int Start, int End)> Regions(IReadOnlyList<string> lines, string path, int cellIndex)
    {
        var regions = new List<(int, int)>();
        int? open = null;
        for (var i = 0; i < lines.Count; i++)
        {
            if (IsMarker(lines[i], AnswerStart))
            {
                if (open is { } outer)
                    throw new NotebookFormatException(path, cellIndex,
                        $"line {i + 1}: '{AnswerStart}' inside the answer opened on line {outer + 1}; answers do not nest: " +
                        $"close the first with '{AnswerEnd}' before opening another");
                open = i;
            }
            else if (IsMarker(lines[i], AnswerEnd))
            {
                if (open is not { } start)
                    throw new NotebookFormatException(path, cellIndex,
                        $"line {i + 1}: '{AnswerEnd}' without a '{AnswerStart}' above it in this cell; add the opening marker " +
                        "on the line before the answer (a region must open and close in the same cell)");
                regions.Add((start, i));
                open = null;
            }
        }
        if (open is { } unclosed)
            throw new NotebookFormatException(path, cellIndex,
                $"line {unclosed + 1}: '{AnswerStart}' is never closed; add '{AnswerEnd}' on the line after the answer " +
                "(a region must open and close in the same cell)");
        return regions;
    }

    static bool IsMarker(string line, string marker)
    {
        var text = line.Trim();
        return text == marker || (text.StartsWith(marker, StringComparison.Ordinal) && char.IsWhiteSpace(text[marker.Length]));
    }

    /// <summary>"a\nb" → ["a\n", "b"]: each line keeps its own line ending, so joining them gives the text back.</summary>
    static List<string> SplitLines(string text)
    {
        var lines = new List<string>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\n') continue;
            lines.Add(text[start..(i + 1)]);
            start = i + 1;
        }
        if (start < text.Length) lines.Add(text[start..]);
        return lines;
    }

    static string NewlineOf(string line) => line.EndsWith("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";

    /// <summary>
    /// The exercise a markdown cell states: its last bold numbered title ("**2. Bands and rows.**" or
    /// "**Exercise 2 (autograd).**", the course's ways of naming an exercise), else its first line, without heading marks; at most 80 characters.
    /// </summary>
    static string ExerciseTitle(string markdown)
    {
        var lines = markdown.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l != "---").ToList();
        var titled = lines.Select(l => ExerciseTitlePattern.Match(l)).LastOrDefault(m => m.Success);
        var line = titled is not null ? titled.Groups[1].Value.Trim() : (lines.FirstOrDefault() ?? "").TrimStart('#', ' ').Replace("**", "");
        return line.Length > 80 ? line[..79] + "…" : line;
    }

    static readonly System.Text.RegularExpressions.Regex ExerciseTitlePattern = new(@"^\*\*((?:Exercise\s+)?\d+\b.*?)\*\*");
}
