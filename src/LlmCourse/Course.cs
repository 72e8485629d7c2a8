namespace LlmCourse;

/// <summary>
/// Course-wide settings a notebook reads. Quick mode (<c>--quick</c> on the runner, or
/// <c>LLMCOURSE_QUICK=1</c>) runs the same notebooks with tiny budgets so the test suite can
/// execute every one of them; full mode is what students and instructors run.
/// </summary>
public static class Course
{
    public const string QuickVariable = "LLMCOURSE_QUICK";

    static bool? quickOverride;

    /// <summary>True in quick mode.</summary>
    public static bool IsQuick
    {
        get => quickOverride ?? Environment.GetEnvironmentVariable(QuickVariable) is "1" or "true" or "TRUE" or "True";
        set => quickOverride = value;
    }

    /// <summary>The full-mode value, or the quick-mode one: <c>var steps = Course.Budget(2000, 20);</c></summary>
    public static T Budget<T>(T full, T quick) => IsQuick ? quick : full;
}
