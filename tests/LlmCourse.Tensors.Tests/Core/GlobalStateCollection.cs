namespace LlmCourse.Tensors.Tests.Core;

/// <summary>
/// Tests that change process-wide state (the default generator, NaN detection, the thread count) run
/// in this collection, alone, so they cannot disturb or be disturbed by tests running in parallel.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalStateCollection
{
    public const string Name = "Global engine state";
}
