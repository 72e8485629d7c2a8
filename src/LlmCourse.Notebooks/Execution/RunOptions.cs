namespace LlmCourse.Notebooks.Execution;

/// <summary>How to run a notebook.</summary>
public sealed record RunOptions
{
    /// <summary>Sets <c>LLMCOURSE_QUICK=1</c> while the notebook runs: the course's tiny budgets.</summary>
    public bool Quick { get; init; }

    /// <summary>Keep running the cells after a failing one (as a kernel does when you run them all by hand).</summary>
    public bool ContinueOnError { get; init; }

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
