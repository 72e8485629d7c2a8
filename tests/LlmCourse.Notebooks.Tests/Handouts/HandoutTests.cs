using LlmCourse.Notebooks.Handouts;
using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Tests.Handouts;

/// <summary><see cref="Handout.Strip"/>: what a student copy keeps, what it removes, and the errors for bad markers.</summary>
public sealed class HandoutTests
{
    const string Placeholder = "// your answer here (see the exercise above)";

    static Notebook Lesson(params string[] codeCells)
    {
        var notebook = Notebook.Create(Cell.Markdown("# Lesson\n\n**1. Square it.** Write x²."));
        foreach (var code in codeCells)
        {
            var cell = Cell.Code(code);
            cell.ExecutionCount = 3;
            cell.Outputs.Add(Output.Stream("stdout", "✓ done\n"));
            notebook.Cells.Add(cell);
        }
        return notebook;
    }

    [Fact]
    public void Strip_ReplacesTheLinesBetweenTheMarkers_WithOneIndentedComment_AndKeepsTheRest()
    {
        var source = "double Square(double x)\n{\n    double? y = null;\n    // ▼ answer\n    y = x * x;\n    y += 0;\n    // ▲ answer\n" +
                     "    return y ?? throw new NotImplementedException();\n}";
        var notebook = Lesson(source);

        var handout = Handout.Strip(notebook);

        Assert.Equal("double Square(double x)\n{\n    double? y = null;\n    // ▼ answer\n    " + Placeholder + "\n    // ▲ answer\n" +
                     "    return y ?? throw new NotImplementedException();\n}", handout.Cells[1].Source);
        // The notebook given is not touched; the copy keeps ids, metadata and markdown.
        Assert.Equal(source, notebook.Cells[1].Source);
        Assert.Equal(notebook.Cells[1].Id, handout.Cells[1].Id);
        Assert.Equal(notebook.Cells[0].Source, handout.Cells[0].Source);
        Assert.Equal(notebook.Metadata.ToJsonString(), handout.Metadata.ToJsonString());
    }

    [Fact]
    public void Strip_ClearsEveryOutput_AndExecutionCount_EvenInCellsWithoutAnswers()
    {
        var handout = Handout.Strip(Lesson("var x = 1;", "// ▼ answer\nx = 2;\n// ▲ answer"));

        Assert.All(handout.CodeCells, c => Assert.Empty(c.Outputs));
        Assert.All(handout.CodeCells, c => Assert.Null(c.ExecutionCount));
        Assert.Equal("var x = 1;", handout.Cells[1].Source);
    }

    [Fact]
    public void Strip_HandlesSeveralRegions_AnEmptyOne_CrlfLines_AndMarkersWithANote()
    {
        var handout = Handout.Strip(Lesson(
            "int a = 0, b = 0;\r\n// ▼ answer (part a)\r\na = 1;\r\n// ▲ answer\r\nint c = a;\r\n  // ▼ answer\r\n  // ▲ answer\r\n// ▼ answer\r\nb = 2;\r\n// ▲ answer"));

        Assert.Equal(
            "int a = 0, b = 0;\r\n// ▼ answer (part a)\r\n" + Placeholder + "\r\n// ▲ answer\r\nint c = a;\r\n" +
            "  // ▼ answer\r\n  " + Placeholder + "\r\n  // ▲ answer\r\n// ▼ answer\r\n" + Placeholder + "\r\n// ▲ answer",
            handout.Cells[1].Source);
    }

    [Fact]
    public void Strip_ReadsMarkersOnlyAsWholeLines_InCodeCells()
    {
        // A marker quoted in markdown, in a string, or glued to other text is not a marker.
        var notebook = Lesson("Console.WriteLine(\"// ▼ answer\"); // ▼ answer\nvar z = 1; // ▲ answer\n// ▼ answers are below");
        notebook.Cells.Add(Cell.Markdown("Write between `// ▼ answer` and\n// ▲ answer\nlines."));

        var handout = Handout.Strip(notebook);

        Assert.Equal(notebook.Cells[1].Source, handout.Cells[1].Source);
        Assert.Equal(notebook.Cells[2].Source, handout.Cells[2].Source);
        Assert.Empty(Handout.Answers(notebook));
    }

    [Fact]
    public void Strip_SurvivesTheNotebookFileRoundTrip()
    {
        var notebook = Lesson("double y = double.NaN;\n// ▼ answer\ny = 4;\n// ▲ answer\nCheck.Close(4, y, 0, \"y\");");

        var reread = NotebookReader.Parse(NotebookWriter.Serialize(Handout.Strip(notebook)));

        Assert.Equal("double y = double.NaN;\n// ▼ answer\n" + Placeholder + "\n// ▲ answer\nCheck.Close(4, y, 0, \"y\");", reread.Cells[1].Source);
        Assert.Equal(notebook.Cells.Select(c => c.Id), reread.Cells.Select(c => c.Id));
        Assert.Equal(notebook.Cells.Select(c => c.Kind), reread.Cells.Select(c => c.Kind));
    }

    [Fact]
    public void Answers_NameTheCellLinesAndExercise()
    {
        var notebook = Lesson("var x = 0;", "int y = 0;\n// ▼ answer\ny = 1;\ny = 2;\n// ▲ answer");
        notebook.Cells.Add(Cell.Markdown("---\n## Exercises\n\n**2. Cube it.** Now x³, which is **harder**."));
        notebook.Cells.Add(Cell.Code("// ▼ answer\n// ▲ answer"));
        notebook.Cells.Add(Cell.Markdown("**Exercise 3 (roots).** Take √x."));
        notebook.Cells.Add(Cell.Code("// ▼ answer\n// ▲ answer"));

        var answers = Handout.Answers(notebook);

        Assert.Equal([new AnswerRegion(2, 2, 5, "1. Square it."), new AnswerRegion(4, 1, 2, "2. Cube it."), new AnswerRegion(6, 1, 2, "Exercise 3 (roots).")], answers);
        Assert.Equal(2, answers[0].AnswerLines);
        Assert.Equal("cell 3, lines 2–5 (exercise \"1. Square it.\")", answers[0].ToString());
    }

    [Theory]
    [InlineData("var x = 1;\n// ▼ answer\nx = 2;", "cell 2: line 2: '// ▼ answer' is never closed")]
    [InlineData("// ▼ answer\nvar a = 1;\n    // ▼ answer\nvar b = 2;\n// ▲ answer", "cell 2: line 3: '// ▼ answer' inside the answer opened on line 1; answers do not nest")]
    [InlineData("var x = 1;\nx = 2;\n// ▲ answer", "cell 2: line 3: '// ▲ answer' without a '// ▼ answer' above it")]
    [InlineData("// ▼ answer\nx = 2;\n// ▲ answer\n// ▲ answer", "cell 2: line 4: '// ▲ answer' without a '// ▼ answer' above it")]
    public void BadMarkers_AreErrors_NamingTheNotebookCellAndLine(string code, string expected)
    {
        var notebook = Lesson(code);

        var strip = Assert.Throws<NotebookFormatException>(() => Handout.Strip(notebook, "notebooks/09-x.ipynb"));
        var answers = Assert.Throws<NotebookFormatException>(() => Handout.Answers(notebook, "notebooks/09-x.ipynb"));

        Assert.StartsWith("notebooks/09-x.ipynb: " + expected, strip.Message);
        Assert.Equal(1, strip.CellIndex);
        Assert.Equal(strip.Message, answers.Message);
    }

    [Fact]
    public void ARegionMustCloseInTheCellItOpens()
    {
        var notebook = Lesson("// ▼ answer\nvar x = 1;", "// ▲ answer");

        var e = Assert.Throws<NotebookFormatException>(() => Handout.Strip(notebook, "l.ipynb"));

        Assert.StartsWith("l.ipynb: cell 2: line 1: '// ▼ answer' is never closed", e.Message);
    }
}
