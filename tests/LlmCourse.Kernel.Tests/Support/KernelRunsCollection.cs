namespace LlmCourse.Kernel.Tests.Support;

/// <summary>
/// Every class here takes turns: a notebook run sets the process's current directory (the notebook's
/// folder, as Jupyter and VS Code start the kernel there) and LLMCOURSE_QUICK, and the kernel's
/// formatter and display subscriptions are process-wide statics.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelRunsCollection
{
    public const string Name = "Kernel runs";
}
