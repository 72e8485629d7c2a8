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
        get => quickOverride ?? ParseQuick(Environment.GetEnvironmentVariable(QuickVariable));
        set => quickOverride = value;
    }

    /// <summary>
    /// LLMCOURSE_QUICK as a switch: 1/true/yes/on is quick, unset, empty or 0/false/no/off is full.
    /// Anything else is an error rather than a guess: read as "full", a mistyped value would start hours
    /// of training where minutes were meant.
    /// </summary>
    public static bool ParseQuick(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "0" or "false" or "no" or "off" => false,
        "1" or "true" or "yes" or "on" => true,
        _ => throw new InvalidOperationException(
            $"{QuickVariable}='{value}' is neither on nor off: set it to 1 for quick mode (tiny budgets, every notebook in " +
            "minutes) or to 0 (or unset it) for full mode, then restart the kernel."),
    };

    /// <summary>The full-mode value, or the quick-mode one: <c>var steps = Course.Budget(2000, 20);</c></summary>
    public static T Budget<T>(T full, T quick) => IsQuick ? quick : full;
}
