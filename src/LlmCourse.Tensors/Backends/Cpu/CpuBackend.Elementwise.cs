using System.Numerics;
using System.Numerics.Tensors;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// Element-wise kernels. Contiguous operands go straight to the vectorised span forms; broadcast and
/// strided ones are walked as runs of their innermost merged dim (<see cref="StridedLayout"/>), each run
/// vectorised when its strides are 1 or 0. Large tensors are split into fixed chunks over two threads.
/// </summary>
internal sealed partial class CpuBackend
{
    // The one loop every unary operator runs in: a tensor is cut into blocks of Block elements (each
    // operator's vectorised form works on one block in L1), and large tensors into chunks of blocks over
    // the threads. UnaryOperators.Apply picks the operator's struct; the bodies below are generic over it.

    public override void Unary(UnaryOp op, Tensor x, Tensor y, float alpha, float beta)
    {
        var source = x;
        if (!x.contiguous)
        {
            CopySame(S(x).Floats, x, S(y).Floats, y);
            source = y; // the op then runs in place on y
        }
        var forward = new UnaryForward(source, y);
        UnaryOperators.Apply(op, alpha, beta, ref forward);
    }

    readonly struct UnaryForward(Tensor x, Tensor y) : IUnaryAction
    {
        public void Run<TOp>(TOp op) where TOp : struct, IUnaryOperator
        {
            var n = y.Count;
            if (n < ParallelThreshold) UnaryBody<TOp>.RunRange(op, x, y, 0, n);
            else CpuParallel.For(n, CpuParallel.Grain(n, 4 * Block), new UnaryBody<TOp>(op, x, y));
        }
    }

    sealed class UnaryBody<TOp>(TOp op, Tensor x, Tensor y) : IRangeBody where TOp : struct, IUnaryOperator
    {
        public void Run(long start, long end) => RunRange(op, x, y, start, end);

        public static void RunRange(TOp op, Tensor x, Tensor y, long start, long end)
        {
            var xs = Floats(x);
            var ys = Floats(y);
            for (var s = (int)start; s < end; s += Block)
            {
                var len = (int)Math.Min(Block, end - s);
                op.Forward(xs.Slice(s, len), ys.Slice(s, len));
            }
        }
    }

    public override void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, float alpha, float beta)
    {
        // x, y are what forward saw/produced: y is contiguous; x and gy may not be.
        var backward = new UnaryBackwardAction(x.ContiguousData(), y, gy.ContiguousData(), gx);
        UnaryOperators.Apply(op, alpha, beta, ref backward);
    }

    readonly struct UnaryBackwardAction(Tensor x, Tensor y, Tensor gy, Tensor gx) : IUnaryAction
    {
        public void Run<TOp>(TOp op) where TOp : struct, IUnaryOperator
        {
            var n = gx.Count;
            if (n < ParallelThreshold) UnaryBackwardBody<TOp>.RunRange(op, x, y, gy, gx, 0, n);
            else CpuParallel.For(n, CpuParallel.Grain(n, 4 * Block), new UnaryBackwardBody<TOp>(op, x, y, gy, gx));
        }
    }

    sealed class UnaryBackwardBody<TOp>(TOp op, Tensor x, Tensor y, Tensor gy, Tensor gx) : IRangeBody where TOp : struct, IUnaryOperator
    {
        public void Run(long start, long end) => RunRange(op, x, y, gy, gx, start, end);

        public static void RunRange(TOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, long start, long end)
        {
            var xs = Floats(x);
            var ys = Floats(y);
            var gys = Floats(gy);
            var gxs = Floats(gx);
            for (var s = (int)start; s < end; s += Block)
            {
                var len = (int)Math.Min(Block, end - s);
                op.Backward(xs.Slice(s, len), ys.Slice(s, len), gys.Slice(s, len), gxs.Slice(s, len));
            }
        }
    }

    public override void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        switch (op)
        {
            case BinaryOp.Add: Binary<AddOperator>(a, b, y); break;
            case BinaryOp.Sub: Binary<SubtractOperator>(a, b, y); break;
            case BinaryOp.Mul: Binary<MultiplyOperator>(a, b, y); break;
            case BinaryOp.Div: Binary<DivideOperator>(a, b, y); break;
            case BinaryOp.Pow: Binary<PowOperator>(a, b, y); break;
            case BinaryOp.Maximum: Binary<MaximumOperator>(a, b, y); break;
            case BinaryOp.Minimum: Binary<MinimumOperator>(a, b, y); break;
            default: throw new NotSupportedException($"Binary op {op} has no CPU kernel.");
        }
    }

    static void Binary<TOp>(Tensor a, Tensor b, Tensor y) where TOp : IBinaryOperator
    {
        var n = y.Count;
        if (a.contiguous && b.contiguous && y.contiguous)
        {
            if (n < ParallelThreshold) FlatBinaryBody<TOp>.RunRange(a, b, y, 0, n);
            else CpuParallel.For(n, CpuParallel.Grain(n, 4 * Block), new FlatBinaryBody<TOp>(a, b, y));
            return;
        }
        var layout = new StridedLayout(y.shape, y, a, b);
        var runs = layout.Outer;
        if (n < ParallelThreshold) StridedBinaryBody<TOp>.RunRange(layout, a, b, y, 0, runs);
        else CpuParallel.For(runs, Math.Max(1, CpuParallel.Grain(n, 4 * Block) / layout.Inner), new StridedBinaryBody<TOp>(layout, a, b, y));
    }

    sealed class FlatBinaryBody<TOp>(Tensor a, Tensor b, Tensor y) : IRangeBody where TOp : IBinaryOperator
    {
        public void Run(long start, long end) => RunRange(a, b, y, start, end);

        public static void RunRange(Tensor a, Tensor b, Tensor y, long start, long end)
        {
            int s = (int)start, len = (int)(end - start);
            TOp.Invoke(Floats(a).Slice(s, len), Floats(b).Slice(s, len), Floats(y).Slice(s, len));
        }
    }

    sealed class StridedBinaryBody<TOp>(StridedLayout layout, Tensor a, Tensor b, Tensor y) : IRangeBody where TOp : IBinaryOperator
    {
        public void Run(long start, long end) => RunRange(layout, a, b, y, start, end);

        public static void RunRange(StridedLayout layout, Tensor a, Tensor b, Tensor y, long start, long end)
        {
            var visitor = new BinaryRuns<TOp>(AllFloats(y), AllFloats(a), AllFloats(b), layout.Inner,
                layout.InnerStride(0), layout.InnerStride(1), layout.InnerStride(2));
            layout.ForEachRun(start, end, ref visitor);
        }
    }

    ref struct BinaryRuns<TOp>(Span<float> y, Span<float> a, Span<float> b, int n, int sy, int sa, int sb) : IRunVisitor
        where TOp : IBinaryOperator
    {
        readonly Span<float> y = y;
        readonly Span<float> a = a;
        readonly Span<float> b = b;

        public readonly void Visit(scoped ReadOnlySpan<long> offsets)
        {
            int oy = (int)offsets[0], oa = (int)offsets[1], ob = (int)offsets[2];
            if (sy == 1)
            {
                var ys = y.Slice(oy, n);
                if (sa == 1 && sb == 1) { TOp.Invoke(a.Slice(oa, n), b.Slice(ob, n), ys); return; }
                if (sa == 1 && sb == 0) { TOp.Invoke(a.Slice(oa, n), b[ob], ys); return; }
                if (sa == 0 && sb == 1) { TOp.Invoke(a[oa], b.Slice(ob, n), ys); return; }
                if (sa == 0 && sb == 0) { ys.Fill(TOp.Invoke(a[oa], b[ob])); return; }
            }
            for (var i = 0; i < n; i++) y[oy + i * sy] = TOp.Invoke(a[oa + i * sa], b[ob + i * sb]);
        }
    }

    public override void BinaryScalar(BinaryOp op, Tensor a, float b, bool scalarFirst, Tensor y)
    {
        switch (op)
        {
            case BinaryOp.Add: BinaryScalar<AddOperator>(a, b, scalarFirst, y); break;
            case BinaryOp.Sub: BinaryScalar<SubtractOperator>(a, b, scalarFirst, y); break;
            case BinaryOp.Mul: BinaryScalar<MultiplyOperator>(a, b, scalarFirst, y); break;
            case BinaryOp.Div: BinaryScalar<DivideOperator>(a, b, scalarFirst, y); break;
            case BinaryOp.Pow: BinaryScalar<PowOperator>(a, b, scalarFirst, y); break;
            case BinaryOp.Maximum: BinaryScalar<MaximumOperator>(a, b, scalarFirst, y); break;
            case BinaryOp.Minimum: BinaryScalar<MinimumOperator>(a, b, scalarFirst, y); break;
            default: throw new NotSupportedException($"Binary op {op} has no CPU kernel.");
        }
    }

    void BinaryScalar<TOp>(Tensor a, float b, bool scalarFirst, Tensor y) where TOp : IBinaryOperator
    {
        var source = a;
        if (!a.contiguous)
        {
            CopySame(S(a).Floats, a, S(y).Floats, y);
            source = y;
        }
        var n = y.Count;
        if (n < ParallelThreshold) ScalarBody<TOp>.RunRange(source, b, scalarFirst, y, 0, n);
        else CpuParallel.For(n, CpuParallel.Grain(n, 4 * Block), new ScalarBody<TOp>(source, b, scalarFirst, y));
    }

    sealed class ScalarBody<TOp>(Tensor a, float b, bool scalarFirst, Tensor y) : IRangeBody where TOp : IBinaryOperator
    {
        public void Run(long start, long end) => RunRange(a, b, scalarFirst, y, start, end);

        public static void RunRange(Tensor a, float b, bool scalarFirst, Tensor y, long start, long end)
        {
            int s = (int)start, len = (int)(end - start);
            var xs = Floats(a).Slice(s, len);
            var ys = Floats(y).Slice(s, len);
            if (scalarFirst) TOp.Invoke(b, xs, ys);
            else TOp.Invoke(xs, b, ys);
        }
    }

    public override void Compare(CompareOp op, Tensor a, Tensor b, Tensor y)
    {
        var layout = new StridedLayout(y.shape, y, a, b);
        var visitor = new CompareRuns(op, AllFloats(y), AllFloats(a), AllFloats(b), layout.Inner,
            layout.InnerStride(0), layout.InnerStride(1), layout.InnerStride(2));
        layout.ForEachRun(0, layout.Outer, ref visitor);
    }

    ref struct CompareRuns(CompareOp op, Span<float> y, Span<float> a, Span<float> b, int n, int sy, int sa, int sb) : IRunVisitor
    {
        readonly Span<float> y = y;
        readonly Span<float> a = a;
        readonly Span<float> b = b;

        public readonly void Visit(scoped ReadOnlySpan<long> offsets)
        {
            int oy = (int)offsets[0], oa = (int)offsets[1], ob = (int)offsets[2];
            var i = 0;
            if (sy == 1 && sa is 0 or 1 && sb is 0 or 1)
            {
                // Vectorised: an operand with stride 0 is one value broadcast across the vector.
                var width = Vector<float>.Count;
                for (; i <= n - width; i += width)
                {
                    var u = Lane(a, oa, sa, i);
                    var v = Lane(b, ob, sb, i);
                    var holds = op switch
                    {
                        CompareOp.Eq => Vector.Equals(u, v),
                        CompareOp.Ne => ~Vector.Equals(u, v),
                        CompareOp.Gt => Vector.GreaterThan(u, v),
                        CompareOp.Ge => Vector.GreaterThanOrEqual(u, v),
                        CompareOp.Lt => Vector.LessThan(u, v),
                        _ => Vector.LessThanOrEqual(u, v),
                    };
                    Vector.ConditionalSelect(holds.As<int, float>(), Vector<float>.One, Vector<float>.Zero).CopyTo(y.Slice(oy + i, width));
                }
            }
            for (; i < n; i++)
            {
                float u = a[oa + i * sa], v = b[ob + i * sb];
                var holds = op switch
                {
                    CompareOp.Eq => u == v,
                    CompareOp.Ne => u != v,
                    CompareOp.Gt => u > v,
                    CompareOp.Ge => u >= v,
                    CompareOp.Lt => u < v,
                    _ => u <= v,
                };
                y[oy + i * sy] = holds ? 1f : 0f;
            }
        }
    }

    /// <summary>Elements [i, i + width) of a run with stride 1, or its single element broadcast (stride 0).</summary>
    static Vector<float> Lane(ReadOnlySpan<float> data, int offset, int stride, int i) =>
        stride == 0 ? new Vector<float>(data[offset]) : new Vector<float>(data.Slice(offset + i, Vector<float>.Count));

    public override void Where(Tensor condition, Tensor a, Tensor b, Tensor y)
    {
        var layout = new StridedLayout(y.shape, y, condition, a, b);
        var visitor = new WhereRuns(AllFloats(y), AllFloats(condition), AllFloats(a), AllFloats(b), layout);
        layout.ForEachRun(0, layout.Outer, ref visitor);
    }

    ref struct WhereRuns(Span<float> y, Span<float> c, Span<float> a, Span<float> b, StridedLayout layout) : IRunVisitor
    {
        readonly Span<float> y = y;
        readonly Span<float> c = c;
        readonly Span<float> a = a;
        readonly Span<float> b = b;
        readonly int n = layout.Inner, sy = layout.InnerStride(0), sc = layout.InnerStride(1), sa = layout.InnerStride(2), sb = layout.InnerStride(3);

        public readonly void Visit(scoped ReadOnlySpan<long> offsets)
        {
            int oy = (int)offsets[0], oc = (int)offsets[1], oa = (int)offsets[2], ob = (int)offsets[3];
            var i = 0;
            if (sy == 1 && sc is 0 or 1 && sa is 0 or 1 && sb is 0 or 1)
            {
                var width = Vector<float>.Count;
                for (; i <= n - width; i += width)
                {
                    var take = ~Vector.Equals(Lane(c, oc, sc, i), Vector<float>.Zero);
                    Vector.ConditionalSelect(take.As<int, float>(), Lane(a, oa, sa, i), Lane(b, ob, sb, i)).CopyTo(y.Slice(oy + i, width));
                }
            }
            for (; i < n; i++)
                y[oy + i * sy] = c[oc + i * sc] != 0f ? a[oa + i * sa] : b[ob + i * sb];
        }
    }

    public override void Dropout(Tensor x, float keep, float scale, ulong seed, Tensor y)
    {
        var xs = Floats(x);
        var ys = Floats(y);
        for (var i = 0; i < ys.Length; i++) ys[i] = xs[i] * (CounterDropout.Keeps(seed, (ulong)i, keep) ? scale : 0f);
    }

    public override void ScaleAdd(Tensor y, float alpha, Tensor x, float beta)
    {
        x = x.ContiguousData();
        var ys = Floats(y);
        var xs = Floats(x);
        if (alpha != 1f) TensorPrimitives.Multiply(ys, alpha, ys);
        if (beta == 1f) TensorPrimitives.Add(ys, xs, ys);
        else TensorPrimitives.MultiplyAdd(xs, beta, ys, ys);
    }
}
