namespace LlmCourse.Notebooks.Execution;

/// <summary>A cell ran longer than <see cref="RunOptions.CellTimeout"/>: the run gave up on it and stopped.</summary>
public sealed class CellTimeoutException(int cellIndex, TimeSpan limit) : TimeoutException(
    $"cell {cellIndex + 1} did not finish within {Describe(limit)}, so the run stopped there. If it is a long " +
    "training cell, give it more time with --cell-timeout (e.g. --cell-timeout 6h, 0 for no limit); if it should " +
    "have finished, look for a loop that never ends or a wait on something that never comes.")
{
    public int CellIndex { get; } = cellIndex;

    public TimeSpan Limit { get; } = limit;

    /// <summary>"3 h", "10 min", "1.5 s": the limit as the error and the --help text show it.</summary>
    public static string Describe(TimeSpan t) =>
        t.TotalHours >= 1 && t.TotalHours == Math.Floor(t.TotalHours) ? $"{t.TotalHours:0} h"
        : t.TotalMinutes >= 1 && t.TotalMinutes == Math.Floor(t.TotalMinutes) ? $"{t.TotalMinutes:0} min"
        : $"{t.TotalSeconds:0.###} s";
}
