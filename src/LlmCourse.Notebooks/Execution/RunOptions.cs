namespace LlmCourse.Notebooks.Execution;

/// <summary>How to run a notebook.</summary>
public sealed record RunOptions
{
    /// <summary>Sets <c>LLMCOURSE_QUICK=1</c> while the notebook runs: the course's tiny budgets.</summary>
    public bool Quick { get; init; }

    /// <summary>Keep running the cells after a failing one (as a kernel does when you run them all by hand).</summary>
    public bool ContinueOnError { get; init; }

    /// <summary>
    /// How long one cell may run before the run gives up on it and stops, naming the cell; null: no
    /// limit. <see cref="DefaultCellTimeout"/> gives the CLI's defaults.
    /// </summary>
    public TimeSpan? CellTimeout { get; init; }

    /// <summary>
    /// 10 minutes a cell in quick mode (a whole quick lesson takes about a minute), 3 hours in full mode
    /// (the longest training cell of a full run on a laptop CPU is well under that).
    /// </summary>
    public static TimeSpan DefaultCellTimeout(bool quick) => quick ? TimeSpan.FromMinutes(10) : TimeSpan.FromHours(3);

    /// <summary>Told about each cell as it starts and ends, and about displays being updated.</summary>
    public IRunObserver? Observer { get; init; }
}

/// <summary>Progress of a run, for a progress bar; every method is optional.</summary>
public interface IRunObserver
{
    void CellStarted(int cellIndex, int codeCellNumber, int codeCellCount, string firstLine) { }

    void CellFinished(CellRun cell) { }

    /// <summary>A display was shown or updated: its text/plain, e.g. a training chart's progress line.</summary>
    void DisplayChanged(int cellIndex, string plainText) { }
}
