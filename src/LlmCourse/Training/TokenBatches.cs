using LlmCourse.Tensors;

namespace LlmCourse.Training;

/// <summary>
/// Training batches cut from one long token stream: inputs (B, T) and targets (B, T), the targets
/// being the inputs shifted one token to the right. Batch number <c>step</c> depends only on the
/// seed and the step (its generator is reseeded from both), so a resumed run draws exactly the
/// batches the uninterrupted run would have, with no generator state to save.
/// <list type="bullet">
/// <item><see cref="BatchOrder.RandomWindows"/>: B windows at random offsets (nanoGPT's get_batch).</item>
/// <item><see cref="BatchOrder.Sequential"/>: the stream cut into B equal stripes read left to right, T tokens
/// per batch, so row b of one batch continues row b of the previous one: what a recurrent model needs to carry
/// its state from batch to batch (truncated backpropagation through time).</item>
/// </list>
/// The tokens come from an <see cref="ITokenSource"/>: an array, or a memory-mapped <see cref="LlmCourse.Data.TokenShard"/>.
/// </summary>
public sealed class TokenBatches
{
    readonly ITokenSource tokens;
    readonly ulong seed;
    readonly Generator generator = new(0);

    public TokenBatches(int[] tokens, int batchSize, int blockSize, BatchOrder order, ulong seed)
        : this(new ArrayTokenSource(tokens), batchSize, blockSize, order, seed)
    {
    }

    public TokenBatches(ITokenSource tokens, int batchSize, int blockSize, BatchOrder order, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (batchSize < 1 || blockSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"TokenBatches: batch size {batchSize} and block size {blockSize} must be positive.");
        var needed = order == BatchOrder.Sequential ? batchSize * blockSize + 1 : blockSize + 1;
        if (tokens.Count < needed)
            throw new ArgumentException($"TokenBatches: {tokens.Count} tokens are too few for {order} batches of {batchSize}×{blockSize} (need {needed}).", nameof(tokens));
        this.tokens = tokens;
        this.seed = seed;
        BatchSize = batchSize;
        BlockSize = blockSize;
        Order = order;
    }

    public int BatchSize { get; }
    public int BlockSize { get; }
    public BatchOrder Order { get; }

    long StripeLength => (tokens.Count - 1) / BatchSize;

    /// <summary>Sequential batches before the stripes are read again from their start.</summary>
    public int BatchesPerPass => (int)Math.Min(int.MaxValue, StripeLength / BlockSize);

    /// <summary>True when sequential batch <paramref name="step"/> starts the stripes again (a carried state must be reset).</summary>
    public bool StartsPass(int step) => Order == BatchOrder.Sequential && step % BatchesPerPass == 0;

    /// <summary>A seed for step <paramref name="step"/> of a run seeded with <paramref name="seed"/> (SplitMix64's finaliser, so nearby steps get unrelated seeds).</summary>
    public static ulong StepSeed(ulong seed, int step)
    {
        var z = seed + 0x9E3779B97F4A7C15UL * (ulong)(step + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Batch number <paramref name="step"/> (0-based).</summary>
    public (Tensor Inputs, Tensor Targets) Batch(int step)
    {
        var x = new int[BatchSize * BlockSize];
        var y = new int[BatchSize * BlockSize];
        var window = new int[BlockSize + 1];
        generator.Seed(StepSeed(seed, step));
        for (var b = 0; b < BatchSize; b++)
        {
            var start = Order == BatchOrder.RandomWindows
                ? RandomOffset(tokens.Count - BlockSize)
                : b * StripeLength + (long)(step % BatchesPerPass) * BlockSize;
            tokens.Read(start, window);   // one read of T + 1 tokens: the inputs, and the targets one to the right
            window.AsSpan(0, BlockSize).CopyTo(x.AsSpan(b * BlockSize));
            window.AsSpan(1, BlockSize).CopyTo(y.AsSpan(b * BlockSize));
        }
        return (Tensor.FromArray(x, BatchSize, BlockSize), Tensor.FromArray(y, BatchSize, BlockSize));
    }

    /// <summary>A uniform offset in [0, <paramref name="range"/>); beyond 2³¹ tokens (a large shard) from 53 random bits.</summary>
    long RandomOffset(long range) =>
        range <= int.MaxValue ? generator.NextInt((int)range) : Math.Min(range - 1, (long)(generator.NextDouble() * range));

    /// <summary>The first <paramref name="count"/> batches, for evaluating on the same windows every time.</summary>
    public (Tensor Inputs, Tensor Targets)[] Take(int count) => Enumerable.Range(0, count).Select(Batch).ToArray();
}

public enum BatchOrder { RandomWindows, Sequential }
