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
/// </summary>
internal sealed partial class CpuBackend
{
    static readonly SgemmOptions OneThread = SgemmOptions.Default with { MaxThreads = 1 };

    public override void Attention(Tensor q, Tensor k, Tensor v, bool causal, float scale, float dropoutP, ulong dropoutSeed,
        Tensor output, Tensor logSumExp)
    {
        var shape = new AttentionShape(q, k, v);
        var dropout = new AttentionDropout(dropoutP, dropoutSeed);
        CpuParallel.For(shape.Batch, 1, new AttentionForward(shape, q, k, v, causal, scale, dropout, output, logSumExp));
    }

    public override void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor output, Tensor logSumExp, Tensor gradOutput,
        bool causal, float scale, float dropoutP, ulong dropoutSeed, Tensor gq, Tensor gk, Tensor gv)
    {
        var shape = new AttentionShape(q, k, v);
        var dropout = new AttentionDropout(dropoutP, dropoutSeed);
        CpuParallel.For(shape.Batch, 1,
            new AttentionBackwardBody(shape, q, k, v, output, logSumExp, gradOutput, causal, scale, dropout, gq, gk, gv));
    }

    /// <summary>
    /// Dropout on the attention probabilities: matrix b's mask comes from its own generator, seeded
    /// <c>seed + b</c> and drawn row by row over [T, S], so it does not depend on which thread runs b,
    /// and backward redraws exactly the mask forward used. Kept entries are scaled by 1/(1-p).
    /// </summary>
    readonly record struct AttentionDropout(float P, ulong Seed)
    {
        public bool Active => P > 0f;

        public void Apply(long b, Span<float> probabilities, int rows, int cols)
        {
            if (!Active) return;
            var g = new Generator(Seed + (ulong)b);
            var keep = 1f - P;
            var scale = 1f / keep;
            for (var i = 0; i < rows * cols; i++)
                probabilities[i] = g.NextFloat() < keep ? probabilities[i] * scale : 0f;
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
            // p = scale q k^T                                               [T, S]
            Sgemm.Multiply(OneThread, false, true, s.T, s.S, s.D, scale, qs, s.Ld(q), ks, s.Ld(k), 0f, p, s.S);
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
            Sgemm.Multiply(OneThread, false, false, s.T, s.Dv, s.S, 1f, p, s.S, vs, s.Ld(v), 0f, os, s.Ld(output));
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
            int ldo = s.Ld(output), lddo = s.Ld(gradOutput);
            // Recompute p = exp(scale q k^T - lse) on the visible keys.
            Sgemm.Multiply(OneThread, false, true, s.T, s.S, s.D, scale, qs, s.Ld(q), ks, s.Ld(k), 0f, p, s.S);
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
            Sgemm.Multiply(OneThread, true, false, s.S, s.Dv, s.T, 1f, used, s.S, dos, lddo, 0f, dv, s.Ld(gv));
            // dp = do v^T                                                   [T, S]
            Sgemm.Multiply(OneThread, false, true, s.T, s.S, s.Dv, 1f, dos, lddo, vs, s.Ld(v), 0f, dp, s.S);
            if (dropout.Active)
            {
                // The mask and its scale: pd / p where p > 0 (a dropped or masked entry gives 0).
                var keepScale = 1f / (1f - dropout.P);
                for (var i = 0; i < p.Length; i++) dp[i] = pd[i] != 0f ? dp[i] * keepScale : 0f;
            }
            // ds = p (dp - rowsum(do * o)), the softmax backward
            for (var i = 0; i < s.T; i++)
            {
                var delta = TensorPrimitives.Dot(dos.Slice(i * lddo, s.Dv), os.Slice(i * ldo, s.Dv));
                var dsRow = dp.Slice(i * s.S, s.S);
                TensorPrimitives.Subtract(dsRow, delta, dsRow);
                TensorPrimitives.Multiply(dsRow, p.Slice(i * s.S, s.S), dsRow);
            }
            // dq = scale ds k, dk = scale ds^T q                            [T, D], [S, D]
            Sgemm.Multiply(OneThread, false, false, s.T, s.D, s.S, scale, dp, s.S, ks, s.Ld(k), 0f, dq, s.Ld(gq));
            Sgemm.Multiply(OneThread, true, false, s.S, s.D, s.T, scale, dp, s.S, qs, s.Ld(q), 0f, dk, s.Ld(gk));
        }
    }
}
