namespace LlmCourse.Training;

/// <summary>
/// A long sequence of token ids that training windows are cut from: an array in memory
/// (<see cref="ArrayTokenSource"/>) or a memory-mapped file on disk (<see cref="LlmCourse.Data.TokenShard"/>),
/// so a corpus larger than memory trains the same way as a small one.
/// </summary>
public interface ITokenSource
{
    /// <summary>How many tokens.</summary>
    long Count { get; }

    /// <summary>Copies tokens <paramref name="start"/> .. start + destination.Length − 1 into <paramref name="destination"/>.</summary>
    void Read(long start, Span<int> destination);
}

/// <summary>Tokens held in an <c>int[]</c>.</summary>
public sealed class ArrayTokenSource(int[] tokens) : ITokenSource
{
    readonly int[] tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));

    public long Count => tokens.Length;

    public void Read(long start, Span<int> destination)
    {
        if (start < 0 || start + destination.Length > tokens.Length)
            throw new ArgumentOutOfRangeException(nameof(start), $"ArrayTokenSource.Read: tokens {start}..{start + destination.Length} are outside 0..{tokens.Length}.");
        tokens.AsSpan((int)start, destination.Length).CopyTo(destination);
    }
}
