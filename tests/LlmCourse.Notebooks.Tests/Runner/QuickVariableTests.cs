using LlmCourse.Notebooks.Execution;

namespace LlmCourse.Notebooks.Tests.Runner;

/// <summary>
/// Quick mode is one contract with two sides in two assemblies: the runner sets the variable, the
/// course library reads it. The runner must not reference the course library (a notebook loads its own
/// copy with #r), so each declares the name; this test is what keeps them one fact.
/// </summary>
public sealed class QuickVariableTests
{
    [Fact]
    public void TheRunnerSetsTheVariableTheCourseReads() =>
        Assert.Equal(LlmCourse.Course.QuickVariable, NotebookRunner.QuickVariable);
}
