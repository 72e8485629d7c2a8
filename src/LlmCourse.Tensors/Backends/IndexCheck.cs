using System.Globalization;

namespace LlmCourse.Tensors.Backends;

/// <summary>
/// The failure message of an index bounds check (<see cref="Backend.CheckIndices"/>): a composite format
/// with the bad value as <c>{0}</c> and its flat position as <c>{1}</c>, written by the op ("CrossEntropy:
/// target {0} at row {1} is out of bounds for 65 classes"), filled in by whichever backend finds the value:
/// the CPU at once, CUDA when its deferred check is read back. One text, so both devices say the same.
/// </summary>
internal static class IndexCheck
{
    public static bool InBounds(int value, int size, int? allowed) => (uint)value < (uint)size || value == allowed;

    public static string Message(string format, int value, long position) =>
        string.Format(CultureInfo.InvariantCulture, format, value, position);

    /// <summary>The first out-of-bounds value of <paramref name="ids"/> and its position, or null when all are in bounds.</summary>
    public static (int Value, int Position)? FirstBad(ReadOnlySpan<int> ids, int size, int? allowed)
    {
        for (var i = 0; i < ids.Length; i++)
            if (!InBounds(ids[i], size, allowed)) return (ids[i], i);
        return null;
    }
}
