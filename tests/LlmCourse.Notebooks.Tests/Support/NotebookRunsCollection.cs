namespace LlmCourse.Notebooks.Tests.Support;

/// <summary>
/// The test classes that run notebooks. A run changes two process-wide things while it lasts, the
/// current directory and <c>LLMCOURSE_QUICK</c>; the runner makes runs take turns, but a test that
/// reads either outside a run (a relative path, the variable's value before a run) would race with
/// another class's run. One collection: these classes take turns too.
/// </summary>
[CollectionDefinition(Name)]
public sealed class NotebookRunsCollection
{
    public const string Name = "Notebook runs";
}
