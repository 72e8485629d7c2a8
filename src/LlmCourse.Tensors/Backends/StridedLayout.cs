namespace LlmCourse.Tensors.Backends;

/// <summary>
/// Up to four same-shape views (an output and its inputs) with their dims merged wherever all of them
/// are contiguous across the merge, and size-1 dims dropped. What is left is walked as "runs": the
/// innermost dim, with one stride per operand, for each index of the outer dims. A [N, C] + [C] add
/// becomes N runs of C with strides (1, 1, 0); two contiguous tensors become a single run.
/// </summary>
internal sealed class StridedLayout
{
    public readonly int Rank;
    public readonly int[] Shape;
    public readonly int[][] Strides;
    public readonly long[] Offsets;

    public StridedLayout(int[] shape, params ReadOnlySpan<Tensor> operands)
    {
        var n = operands.Length;
        Offsets = new long[n];
        for (var o = 0; o < n; o++) Offsets[o] = operands[o].offset;

        var dims = new List<int>(shape.Length);
        for (var d = 0; d < shape.Length; d++)
            if (shape[d] != 1) dims.Add(d);

        var mergedShape = new List<int>();
        var mergedStrides = new List<int>[n];
        for (var o = 0; o < n; o++) mergedStrides[o] = [];
        foreach (var d in dims)
        {
            var last = mergedShape.Count - 1;
            var canMerge = last >= 0;
            for (var o = 0; o < n && canMerge; o++)
                canMerge = mergedStrides[o][last] == operands[o].strides[d] * shape[d];
            if (canMerge)
            {
                mergedShape[last] *= shape[d];
                for (var o = 0; o < n; o++) mergedStrides[o][last] = operands[o].strides[d];
            }
            else
            {
                mergedShape.Add(shape[d]);
                for (var o = 0; o < n; o++) mergedStrides[o].Add(operands[o].strides[d]);
            }
        }
        if (mergedShape.Count == 0)
        {
            mergedShape.Add(Shapes.Count(shape) == 0 ? 0 : 1);
            for (var o = 0; o < n; o++) mergedStrides[o].Add(1);
        }
        Rank = mergedShape.Count;
        Shape = [.. mergedShape];
        Strides = new int[n][];
        for (var o = 0; o < n; o++) Strides[o] = [.. mergedStrides[o]];
    }

    /// <summary>Length of each run (the innermost merged dim).</summary>
    public int Inner => Shape[Rank - 1];

    /// <summary>Number of runs.</summary>
    public long Outer
    {
        get
        {
            long count = 1;
            for (var d = 0; d < Rank - 1; d++) count *= Shape[d];
            return count;
        }
    }

    public int InnerStride(int operand) => Strides[operand][Rank - 1];

    /// <summary>Start offsets of run <paramref name="run"/> for every operand.</summary>
    public void RunOffsets(long run, Span<long> offsets)
    {
        for (var o = 0; o < offsets.Length; o++) offsets[o] = Offsets[o];
        for (var d = Rank - 2; d >= 0 && run > 0; d--)
        {
            var i = run % Shape[d];
            run /= Shape[d];
            for (var o = 0; o < offsets.Length; o++) offsets[o] += i * Strides[o][d];
        }
    }

    /// <summary>Walks runs [start, end) in order, calling the visitor with each run's offsets.</summary>
    public void ForEachRun<TVisitor>(long start, long end, ref TVisitor visitor) where TVisitor : IRunVisitor, allows ref struct
    {
        if (start >= end) return;
        var n = Offsets.Length;
        Span<long> offsets = stackalloc long[n];
        Span<int> index = stackalloc int[Math.Max(Rank - 1, 1)];
        RunOffsets(start, offsets);
        var rest = start;
        for (var d = Rank - 2; d >= 0; d--)
        {
            index[d] = (int)(rest % Shape[d]);
            rest /= Shape[d];
        }
        for (var run = start; run < end; run++)
        {
            visitor.Visit(offsets);
            // Advance the outer multi-index like an odometer.
            for (var d = Rank - 2; d >= 0; d--)
            {
                index[d]++;
                for (var o = 0; o < n; o++) offsets[o] += Strides[o][d];
                if (index[d] < Shape[d]) break;
                for (var o = 0; o < n; o++) offsets[o] -= (long)Strides[o][d] * Shape[d];
                index[d] = 0;
            }
        }
    }
}

internal interface IRunVisitor
{
    void Visit(scoped ReadOnlySpan<long> offsets);
}
