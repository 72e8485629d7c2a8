namespace LlmCourse.Notebooks.Handouts;

/// <summary>
/// One reference answer in a lesson: the lines strictly between a <c>// ▼ answer</c> line and the next
/// <c>// ▲ answer</c> line of a code cell.
/// </summary>
/// <param name="CellIndex">0-based index of the code cell among all cells.</param>
/// <param name="StartLine">1-based line of the <c>// ▼ answer</c> marker in the cell.</param>
/// <param name="EndLine">1-based line of the <c>// ▲ answer</c> marker.</param>
/// <param name="Exercise">The exercise the answer belongs to: the first line of the nearest markdown cell above
/// (its task), so a message about the answer can name it; "" when no markdown precedes it.</param>
public sealed record AnswerRegion(int CellIndex, int StartLine, int EndLine, string Exercise)
{
    /// <summary>1-based cell number, as a reader counts cells.</summary>
    public int CellNumber => CellIndex + 1;

    /// <summary>How many lines of answer the region holds (the markers excluded).</summary>
    public int AnswerLines => EndLine - StartLine - 1;

    public override string ToString() =>
        $"cell {CellNumber}, lines {StartLine}–{EndLine}" + (Exercise.Length > 0 ? $" (exercise \"{Exercise}\")" : "");
}
