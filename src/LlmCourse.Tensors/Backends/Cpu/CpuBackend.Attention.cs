using System.Buffers;
using System.Numerics.Tensors;
using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// Fused scaled dot-product attention, flash-attention style on the CPU: one task per (batch, head)
/// matrix, its [T, S] scores in a scratch buffer that stays in L2, never a [B, H, T, S] tensor. Forward
/// keeps only the output and each row's log-sum-exp; backward recomputes the probabilities from them.
/// Letters: T queries, S keys, D head size (Dv for values). Every matrix, inputs, outputs and
/// gradients alike, may sit at any batch strides with its rows any distance apart (ld) but each row
/// contiguous. Products go through <see cref="Sgemm"/> single-threaded, since the tasks already use every core.
/// With a causal mask the products skip what the mask hides, in blocks of <see cref="CausalBlock"/>
/// queries (keys): a block of queries multiplies only the keys its last row sees, and a block of keys
/// only the queries that see it, which at T = 256 does 62% of the full products' work. Entries outside
/// a row's visible keys are cleared, so they add exact zeros: blocking changes which terms are
/// skipped, not the sum of the ones that count.
/// </summary>
internal sealed partial class CpuBackend
{
    static readonly SgemmOptions OneThread = SgemmOptions.Default with { MaxThreads = 1 };

    /// <summary>Rows per block of a causal product: small enough to skip most of the hidden half, large enough for the SGEMM's tiles.</summary>
    const int CausalBlock = 64;

    public override void Attention(Tensor q, Tensor k, Tensor v, bool causal, float scale, float dropoutP, ulong dropoutSeed,
        DType precision, Tensor output, Tensor logSumExp)
    {
        var shape = new AttentionShape(q, k, v);
        var dropout = new AttentionDropout(dropoutP, dropoutSeed);
        CpuParallel.For(shape.Batch, 1, new AttentionForward(shape, q, k, v, causal, scale, dropout, output, logSumExp));
    }

    public override void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor output, Tensor logSumExp, Tensor gradOutput,
        bool causal, float scale, float dropoutP, ulong dropoutSeed, DType precision, Tensor gq, Tensor gk, Tensor gv)
    {
        var shape = new AttentionShape(q, k, v);
        var dropout = new AttentionDropout(dropoutP, dropoutSeed);
        CpuParallel.For(shape.Batch, 1,
            new AttentionBackwardBody(shape, q, k, v, output, logSumExp, gradOutput, causal, scale, dropout, gq, gk, gv));
    }

    /// <summary>
    /// Dropout on the attention probabilities: entry (b, i, j) of the [batch, T, S] weights is kept by
    /// <see cref="CounterDropout"/> at index (b T + i) S + j, a function of the index alone, so the mask
    /// does not depend on which thread runs b, backward recomputes exactly the mask forward used, and the
    /// CUDA backend (which never stores a mask) drops the same entries. Kept entries are scaled by 1/(1-p).
    /// </summary>
    readonly record struct AttentionDropout(float P, ulong Seed)
    {
        public bool Active => P > 0f;

        public void Apply(long b, Span<float> probabilities, int rows, int cols)
        {
            if (!Active) return;
            var keep = 1f - P;
            var scale = 1f / keep;
            var first = (ulong)(b * rows * cols);
            for (var i = 0; i < rows * cols; i++)
                probabilities[i] = CounterDropout.Keeps(Seed, first + (ulong)i, keep) ? probabilities[i] * scale : 0f;
        }
    }

    /// <summary>Sizes and per-matrix offsets of the (possibly strided) batches of q, k and v.</summary>
    sealed class AttentionShape
    {
        public readonly int T, S, D, Dv, Batch;
        readonly Tensor q, k, v;

        public AttentionShape(Tensor q, Tensor k, Tensor v)
        {
            (this.q, this.k, this.v) = (q, k, v);
            T = q.shape[^2];
            D = q.shape[^1];
            S = k.shape[^2];
            Dv = v.shape[^1];
            Batch = (int)(q.Count / Math.Max(1, (long)T * D));
            if (T == 0 || D == 0) Batch = (int)Shapes.Count(q.shape.AsSpan(0, q.Rank - 2));
        }

        public int RowStride(Tensor t) => t.strides[^2];

        /// <summary>Element offset of matrix <paramref name="index"/> of a batched view.</summary>
        public static long Offset(Tensor t, long index)
        {
            var o = t.offset;
            for (var d = t.Rank - 3; d >= 0; d--)
            {
                o += index % t.shape[d] * t.strides[d];
                index /= t.shape[d];
            }
            return o;
        }

        public int Ld(Tensor t) => RowStride(t) == 0 || t.shape[^2] == 1 ? t.shape[^1] : RowStride(t);
    }

    /// <summary>Row i may attend to keys [0, Visible(i)).</summary>
    static int Visible(bool causal, int i, int keys) => causal ? Math.Min(i + 1, keys) : keys;

    /// <summary>The first query that sees key <paramref name="key"/> (T when none does: its gradients are zero).</summary>
    static int FirstQuery(bool causal, int key, int queries) => causal ? Math.Min(key, queries) : 0;

    /// <summary>The span from <paramref name="start"/> on, empty past its end (a product over no queries reads nothing).</summary>
    static ReadOnlySpan<float> From(ReadOnlySpan<float> span, int start) => span[Math.Min(start, span.Length)..];

    /// <summary>The blocks [start, end) that split <paramref name="count"/> rows: one block without a causal mask.</summary>
    static IEnumerable<(int Start, int End)> Blocks(bool causal, int count)
    {
        var size = causal ? CausalBlock : Math.Max(count, 1);
        for (var start = 0; start < count; start += size) yield return (start, Math.Min(start + size, count));
    }

    sealed class AttentionForward(AttentionShape s, Tensor q, Tensor k, Tensor v, bool causal, float scale, AttentionDropout dropout,
        Tensor output, Tensor logSumExp) : IRangeBody
    {
        public void Run(long start, long end)
        {
            var scores = ArrayPool<float>.Shared.Rent(s.T * s.S);
            try
            {
                for (var b = start; b < end; b++) One(b, scores.AsSpan(0, s.T * s.S));
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scores);
            }
        }

        void One(long b, Span<float> p)
        {
            var qs = AllFloats(q)[(int)AttentionShape.Offset(q, b)..];
            var ks = AllFloats(k)[(int)AttentionShape.Offset(k, b)..];
            var vs = AllFloats(v)[(int)AttentionShape.Offset(v, b)..];
            var os = AllFloats(output)[(int)AttentionShape.Offset(output, b)..];
            var lse = Floats(logSumExp).Slice((int)(b * s.T), s.T);
            int ldq = s.Ld(q), ldo = s.Ld(output);
            // p = scale q k^T                                               [T, S]
            foreach (var (r0, r1) in Blocks(causal, s.T))
            {
                var n = Visible(causal, r1 - 1, s.S);
                Sgemm.Multiply(OneThread, false, true, r1 - r0, n, s.D, scale, qs[(r0 * ldq)..], ldq, ks, s.Ld(k), 0f, p[(r0 * s.S)..], s.S);
            }
            for (var i = 0; i < s.T; i++)
            {
                var row = p.Slice(i * s.S, s.S);
                var n = Visible(causal, i, s.S);
                var visible = row[..n];
                var max = TensorPrimitives.Max<float>(visible);
                var sum = FastExp.ExpSum(visible, max, visible);
                TensorPrimitives.Divide(visible, sum, visible);
                row[n..].Clear();
                lse[i] = max + MathF.Log(sum);
            }
            dropout.Apply(b, p, s.T, s.S);
            // output = p v                                                  [T, Dv]
            foreach (var (r0, r1) in Blocks(causal, s.T))
            {
                var n = Visible(causal, r1 - 1, s.S);
                Sgemm.Multiply(OneThread, false, false, r1 - r0, s.Dv, n, 1f, p[(r0 * s.S)..], s.S, vs, s.Ld(v), 0f, os[(r0 * ldo)..], ldo);
            }
        }
    }

    sealed class AttentionBackwardBody(AttentionShape s, Tensor q, Tensor k, Tensor v, Tensor output, Tensor logSumExp, Tensor gradOutput,
        bool causal, float scale, AttentionDropout dropout, Tensor gq, Tensor gk, Tensor gv) : IRangeBody
    {
        public void Run(long start, long end)
        {
            var n = s.T * s.S;
            var p = ArrayPool<float>.Shared.Rent(n);
            var dp = ArrayPool<float>.Shared.Rent(n);
            var dropped = dropout.Active ? ArrayPool<float>.Shared.Rent(n) : null;
            try
            {
                for (var b = start; b < end; b++) One(b, p.AsSpan(0, n), dp.AsSpan(0, n), dropped is null ? default : dropped.AsSpan(0, n));
            }
            finally
            {
                ArrayPool<float>.Shared.Return(p);
                ArrayPool<float>.Shared.Return(dp);
                if (dropped is not null) ArrayPool<float>.Shared.Return(dropped);
            }
        }

        /// <summary>
        /// With dropout, pd = p * mask / (1 - p) is what multiplied v: dv = pd^T do and d(pd) = do v^T, so
        /// dp = d(pd) * mask / (1 - p); rowsum(p * dp) is still do . o, as without dropout.
        /// </summary>
        void One(long b, Span<float> p, Span<float> dp, Span<float> pd)
        {
            var qs = AllFloats(q)[(int)AttentionShape.Offset(q, b)..];
            var ks = AllFloats(k)[(int)AttentionShape.Offset(k, b)..];
            var vs = AllFloats(v)[(int)AttentionShape.Offset(v, b)..];
            var os = AllFloats(output)[(int)AttentionShape.Offset(output, b)..];
            var dos = AllFloats(gradOutput)[(int)AttentionShape.Offset(gradOutput, b)..];
            var lse = Floats(logSumExp).Slice((int)(b * s.T), s.T);
            var dq = AllFloats(gq)[(int)AttentionShape.Offset(gq, b)..];
            var dk = AllFloats(gk)[(int)AttentionShape.Offset(gk, b)..];
            var dv = AllFloats(gv)[(int)AttentionShape.Offset(gv, b)..];
            int ldo = s.Ld(output), lddo = s.Ld(gradOutput), ldq = s.Ld(q), ldk = s.Ld(k), ldv = s.Ld(v);
            // Recompute p = exp(scale q k^T - lse) on the visible keys.
            foreach (var (r0, r1) in Blocks(causal, s.T))
            {
                var n = Visible(causal, r1 - 1, s.S);
                Sgemm.Multiply(OneThread, false, true, r1 - r0, n, s.D, scale, qs[(r0 * ldq)..], ldq, ks, ldk, 0f, p[(r0 * s.S)..], s.S);
            }
            for (var i = 0; i < s.T; i++)
            {
                var row = p.Slice(i * s.S, s.S);
                var n = Visible(causal, i, s.S);
                FastExp.ExpSum(row[..n], lse[i], row[..n]);
                row[n..].Clear();
            }
            if (dropout.Active)
            {
                p.CopyTo(pd);
                dropout.Apply(b, pd, s.T, s.S);
            }
            var used = dropout.Active ? pd : p;
            // dv = p^T do                                                   [S, Dv]
            // (key c is seen by queries c and later only: a block of keys from c0 needs rows from c0)
            foreach (var (c0, c1) in Blocks(causal, s.S))
            {
                var first = FirstQuery(causal, c0, s.T);
                Sgemm.Multiply(OneThread, true, false, c1 - c0, s.Dv, s.T - first, 1f, From(used, first * s.S + c0), s.S,
                    From(dos, first * lddo), lddo, 0f, dv[(c0 * s.Ld(gv))..], s.Ld(gv));
            }
            // dp = do v^T                                                   [T, S]
            foreach (var (r0, r1) in Blocks(causal, s.T))
            {
                var n = Visible(causal, r1 - 1, s.S);
                Sgemm.Multiply(OneThread, false, true, r1 - r0, n, s.Dv, 1f, dos[(r0 * lddo)..], lddo, vs, ldv, 0f, dp[(r0 * s.S)..], s.S);
            }
            if (dropout.Active)
            {
                // The mask and its scale: pd / p where p > 0 (a dropped or masked entry gives 0).
                var keepScale = 1f / (1f - dropout.P);
                for (var i = 0; i < p.Length; i++) dp[i] = pd[i] != 0f ? dp[i] * keepScale : 0f;
            }
            // ds = p (dp - rowsum(do * o)), the softmax backward; zero past the visible keys, where
            // the blocked dp above left entries unwritten
            for (var i = 0; i < s.T; i++)
            {
                var delta = TensorPrimitives.Dot(dos.Slice(i * lddo, s.Dv), os.Slice(i * ldo, s.Dv));
                var n = Visible(causal, i, s.S);
                var dsRow = dp.Slice(i * s.S, n);
                TensorPrimitives.Subtract(dsRow, delta, dsRow);
                TensorPrimitives.Multiply(dsRow, p.Slice(i * s.S, n), dsRow);
                dp.Slice(i * s.S + n, s.S - n).Clear();
            }
            // dq = scale ds k, dk = scale ds^T q                            [T, D], [S, D]
            foreach (var (r0, r1) in Blocks(causal, s.T))
            {
                var n = Visible(causal, r1 - 1, s.S);
                Sgemm.Multiply(OneThread, false, false, r1 - r0, s.D, n, scale, dp[(r0 * s.S)..], s.S, ks, ldk, 0f, dq[(r0 * s.Ld(gq))..], s.Ld(gq));
            }
            foreach (var (c0, c1) in Blocks(causal, s.S))
            {
                var first = FirstQuery(causal, c0, s.T);
                Sgemm.Multiply(OneThread, true, false, c1 - c0, s.D, s.T - first, scale, From(dp, first * s.S + c0), s.S,
                    From(qs, first * ldq), ldq, 0f, dk[(c0 * s.Ld(gk))..], s.Ld(gk));
            }
        }
    }
}
