using System.Collections;
using System.Globalization;

namespace LlmCourse;

/// <summary>
/// Exercise checks for the notebooks: each prints ✓ or ✗ with what was expected, what came out and
/// a hint, and returns whether it passed. They never throw, so a wrong answer teaches rather than
/// stopping the notebook, and the test suite (which runs the notebooks with their reference answers)
/// still sees every check.
/// </summary>
/// <example><code>
/// Check.Close(14, slope, 1e-6, "df/dx at x = 2", hint: "d/dx x³ = 3x²; d/dx 2x = 2");
/// </code></example>
public static class Check
{
    static int passed;
    static int failed;

    /// <summary>Where the ✓/✗ lines go: the console (the notebook's output), or a writer in tests.</summary>
    internal static TextWriter? Output { get; set; }

    static TextWriter Out => Output ?? Console.Out;

    /// <summary>Checks run so far in this session, and how many passed.</summary>
    public static (int Passed, int Failed) Tally => (passed, failed);

    public static bool Equal<T>(T expected, T actual, string what, string? hint = null) =>
        Report(EqualityComparer<T>.Default.Equals(expected, actual), what, Show(expected), Show(actual), hint);

    /// <summary>|expected − actual| ≤ tolerance.</summary>
    public static bool Close(double expected, double actual, double tolerance, string what, string? hint = null) =>
        Report(Math.Abs(expected - actual) <= tolerance || expected.Equals(actual), what,
            Show(expected) + $" (± {tolerance.ToString("G3", CultureInfo.InvariantCulture)})", Show(actual), hint);

    /// <summary>Element by element, within <paramref name="tolerance"/>; reports the largest difference.</summary>
    public static bool Close(IReadOnlyList<float> expected, IReadOnlyList<float>? actual, double tolerance, string what, string? hint = null)
    {
        if (actual is null) return Report(false, what, Show(expected), "no answer yet", hint);
        if (expected.Count != actual.Count)
            return Report(false, what, $"{expected.Count} values", $"{actual.Count} values", hint);
        // A NaN (or an infinity against a finite value) is the worst difference there is: once found it
        // stays the worst, so one anywhere in the list fails the check, not only in the last position.
        var worst = 0.0;
        var at = 0;
        for (var i = 0; i < expected.Count; i++)
        {
            var difference = expected[i].Equals(actual[i]) ? 0 : Math.Abs((double)expected[i] - actual[i]);
            if (double.IsNaN(difference)) difference = double.PositiveInfinity;
            if (difference > worst) (worst, at) = (difference, i);
        }
        var ok = worst <= tolerance;
        return Report(ok, what, Show(expected), Show(actual), hint,
            ok ? null : $"largest difference {worst.ToString("G3", CultureInfo.InvariantCulture)} at index {at} (tolerance {tolerance.ToString("G3", CultureInfo.InvariantCulture)})");
    }

    /// <summary>Any condition, for checks that are not a comparison.</summary>
    public static bool That(bool condition, string what, string? hint = null) =>
        Report(condition, what, null, null, hint);

    /// <summary>
    /// Runs the student's code for a check cell and returns what it computed. If it throws (an unanswered
    /// exercise's stub throws <see cref="NotImplementedException"/>), prints ✗ with the reason and the hint
    /// and returns <c>default</c>, so the checks after it print ✗ too instead of the cell stopping with an
    /// error. Prints nothing when the code runs: the checks on its value say ✓ or ✗.
    /// </summary>
    /// <example><code>
    /// var mine = Check.Answer(() => MyAttention(x), "your attention", hint: "softmax over the last axis");
    /// Check.Close(reference.ToArray(), mine?.ToArray(), 1e-5, "attention output");
    /// </code></example>
    public static T? Answer<T>(Func<T> studentCode, string what, string? hint = null)
    {
        try
        {
            return studentCode();
        }
        catch (NotImplementedException)
        {
            Report(false, what, null, null, hint, "not answered yet: write your code between the ▼ answer and ▲ answer markers");
        }
        catch (Exception error)
        {
            Report(false, what, null, null, hint, $"your code threw {error.GetType().Name}: {error.Message}");
        }
        return default;
    }

    /// <summary>"3 of 3 checks passed" (or which way to look).</summary>
    public static string Summary()
    {
        var total = passed + failed;
        var line = failed == 0
            ? $"✓ all {total} check{(total == 1 ? "" : "s")} passed"
            : $"✗ {failed} of {total} check{(total == 1 ? "" : "s")} failed: scroll up for the ✗ lines and their hints";
        Out.WriteLine(line);
        return line;
    }

    static bool Report(bool ok, string what, string? expected, string? actual, string? hint, string? detail = null)
    {
        if (ok)
        {
            Interlocked.Increment(ref passed);
            Out.WriteLine(actual is null ? $"✓ {what}" : $"✓ {what} = {actual}");
            return true;
        }
        Interlocked.Increment(ref failed);
        var line = expected is null ? $"✗ {what}" : $"✗ {what}: expected {expected}, got {actual}";
        if (detail is not null) line += expected is null ? $": {detail}" : $"; {detail}";
        Out.WriteLine(line);
        if (hint is not null) Out.WriteLine($"  hint: {hint}");
        return false;
    }

    static string Show(object? value) => value switch
    {
        null => "null",
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        string s => $"\"{s}\"",
        IEnumerable sequence => "[" + string.Join(", ", sequence.Cast<object?>().Take(8).Select(Show)) +
                                (sequence.Cast<object?>().Skip(8).Any() ? ", …" : "") + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
