using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// Fused scaled dot-product attention on the GPU (attention.cu): flash-attention style, the [T, S] scores
/// never stored; backward recomputes them from the saved log-sum-exp, dq in one kernel, dk and dv in
/// another. Every matrix may sit at any batch strides with its rows any distance apart (ld), each row
/// contiguous, as on the CPU. Dropout stores no mask: each thread decides its own entries with
/// <see cref="CounterDropout"/>'s hash of (seed, index), as the CPU backend does, so both backends
/// drop the same weights.
/// Under autocast (operands rounded to bf16 or fp16) the tensor-core kernels of attention_mma.cu run
/// instead, FlashAttention-2's scheme with mma.sync; float32 inputs keep the float32 kernels.
/// Letters: T queries, S keys, D head size (Dv for values).
/// </summary>
internal sealed unsafe partial class CudaBackend
{
    const int AttentionRows = 8, AttentionTile = 32, MaxHeadSize = 128;

    /// <summary>Both kernel families keep a row's accumulators in registers: 4 per lane (attention.cu), 16 × 4 (attention_mma.cu).</summary>
    public override int FusedAttentionMaxHeadSize => MaxHeadSize;

    /// <summary>
    /// The tensor-core kernels round q, k, v and gradOutput to 16 bits as they load them into shared memory or registers,
    /// and the output and the gradients as they store them (attention_delta rounds gradOutput as it reads it too).
    /// </summary>
    public override bool AttentionRoundsItself(DType precision, int headSize, int valueSize) =>
        TensorCoreKernel(precision, headSize, valueSize, Dev.ComputeCapability) is not null;

    public override void Attention(Tensor q, Tensor k, Tensor v, bool causal, float scale, float dropoutP, ulong dropoutSeed,
        DType precision, Tensor output, Tensor logSumExp)
    {
        var (T, S, D, Dv, batch) = Sizes(q, k, v);
        if (batch == 0 || T == 0) return;
        var layout = AttentionLayout(q, k, v, output, null, null, null, null);
        var args = new KernelArgs();
        args.Add(layout);
        args.Add(Base(q));
        args.Add(Base(k));
        args.Add(Base(v));
        args.Add(Base(output));
        args.Add(P(logSumExp));
        args.Add(T);
        args.Add(S);
        args.Add(D);
        args.Add(Dv);
        args.Add(causal ? 1 : 0);
        args.Add(scale);
        args.Add(dropoutP);
        args.Add((long)dropoutSeed);
        if (TensorCoreKernel(precision, D, Dv, Dev.ComputeCapability) is { } mma)
        {
            args.Add((long)batch);
            LaunchMma("attention_forward_mma_" + mma.Name, T, batch, mma.Shared(ExtraFloats: 0), ref args);
            return;
        }
        var shared = (uint)((AttentionRows * D + AttentionTile * (D + 1) + AttentionTile * (Dv + 1)) * sizeof(float));
        var (y, z) = BatchGrid(batch);
        Dev.Launch("attention.cu", "attention_forward", (uint)((T + AttentionRows - 1) / AttentionRows), y, z,
            AttentionRows * 32, shared, ref args);
    }

    public override void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor output, Tensor logSumExp, Tensor gradOutput,
        bool causal, float scale, float dropoutP, ulong dropoutSeed, DType precision, Tensor gq, Tensor gk, Tensor gv)
    {
        var (T, S, D, Dv, batch) = Sizes(q, k, v);
        if (batch == 0) return;
        var layout = AttentionLayout(q, k, v, output, gradOutput, gq, gk, gv);
        var delta = Temp([batch, T], DType.Float32);
        var d = new KernelArgs();
        d.Add(layout);
        d.Add(Base(output));
        d.Add(Base(gradOutput));
        d.Add(P(delta));
        d.Add(T);
        d.Add(Dv);
        d.Add((int)precision);
        d.Add((long)batch);
        Dev.Launch("attention.cu", "attention_delta", (uint)(((long)batch * T + AttentionRows - 1) / AttentionRows), 1,
            AttentionRows * 32, 0, ref d);

        var shared = (uint)((AttentionRows * (D + Dv) + AttentionTile * (D + 1) + AttentionTile * (Dv + 1)) * sizeof(float));
        var dq = new KernelArgs();
        dq.Add(layout);
        dq.Add(Base(q));
        dq.Add(Base(k));
        dq.Add(Base(v));
        dq.Add(Base(gradOutput));
        dq.Add(P(logSumExp));
        dq.Add(P(delta));
        dq.Add(Base(gq));
        dq.Add(T);
        dq.Add(S);
        dq.Add(D);
        dq.Add(Dv);
        dq.Add(causal ? 1 : 0);
        dq.Add(scale);
        dq.Add(dropoutP);
        dq.Add((long)dropoutSeed);
        var mma = TensorCoreKernel(precision, D, Dv, Dev.ComputeCapability);
        var (gridY, gridZ) = BatchGrid(batch);
        if (mma is not null)
        {
            dq.Add((long)batch);
            LaunchMma("attention_backward_dq_mma_" + mma.Value.Name, T, batch, mma.Value.Shared(ExtraFloats: 0), ref dq);
        }
        else Dev.Launch("attention.cu", "attention_backward_dq", (uint)((T + AttentionRows - 1) / AttentionRows), gridY,
            gridZ, AttentionRows * 32, shared, ref dq);

        var dkdv = new KernelArgs();
        dkdv.Add(layout);
        dkdv.Add(Base(q));
        dkdv.Add(Base(k));
        dkdv.Add(Base(v));
        dkdv.Add(Base(gradOutput));
        dkdv.Add(P(logSumExp));
        dkdv.Add(P(delta));
        dkdv.Add(Base(gk));
        dkdv.Add(Base(gv));
        dkdv.Add(T);
        dkdv.Add(S);
        dkdv.Add(D);
        dkdv.Add(Dv);
        dkdv.Add(causal ? 1 : 0);
        dkdv.Add(scale);
        dkdv.Add(dropoutP);
        dkdv.Add((long)dropoutSeed);
        if (mma is not null)
        {
            dkdv.Add((long)batch);
            LaunchMma("attention_backward_dkdv_mma_" + mma.Value.Name, S, batch, mma.Value.Shared(ExtraFloats: 2 * mma.Value.Tile), ref dkdv);
        }
        else Dev.Launch("attention.cu", "attention_backward_dkdv", (uint)((S + AttentionRows - 1) / AttentionRows), gridY,
            gridZ, AttentionRows * 32, shared, ref dkdv);
    }

    /// <summary>
    /// attention_mma.cu's kernels for operands rounded to bf16 or fp16 (autocast): head sizes padded to 64 or 128,
    /// tiles of 64 (32 for 128, for registers) keys or queries, 4 warps of 16 rows each.
    /// </summary>
    internal readonly record struct MmaAttentionKernel(string Name, int Head, int Tile)
    {
        /// <summary>Dynamic shared memory: two 16-bit tiles of Tile rows, Head + 8 apart, after <paramref name="ExtraFloats"/> floats.</summary>
        public uint Shared(int ExtraFloats) => (uint)(ExtraFloats * sizeof(float) + 2 * Tile * (Head + 8) * sizeof(ushort));
    }

    internal const int MmaRows = 64, MmaThreads = 128;

    /// <summary>
    /// The tensor-core kernels for this precision and head sizes, or null for the float32 kernels (attention.cu):
    /// float32 operands, or a GPU older than compute capability 8.0 (mma.m16n8k16 with bf16 needs sm_80).
    /// </summary>
    internal static MmaAttentionKernel? TensorCoreKernel(DType precision, int d, int dv, int computeCapability)
    {
        var format = precision switch { DType.BFloat16 => "bf16", DType.Float16 => "f16", _ => null };
        if (format is null || computeCapability < 80) return null;
        var head = Math.Max(d, dv) <= 64 ? 64 : 128;
        return new MmaAttentionKernel($"{format}_{head}", head, head == 64 ? 64 : 32);
    }

    /// <summary>Grid y and z for <paramref name="batch"/> matrices: y at most 65535 (its limit), the rest on z.</summary>
    internal static (uint Y, uint Z) BatchGrid(int batch)
    {
        var y = Math.Min(batch, 65535);
        return ((uint)y, (uint)((batch + y - 1) / y));
    }

    /// <summary>Grid for the tensor-core kernels: x = blocks of 64 rows, y and z = the batch.</summary>
    internal static (uint X, uint Y, uint Z) MmaGrid(int rows, int batch)
    {
        var (y, z) = BatchGrid(batch);
        return ((uint)((rows + MmaRows - 1) / MmaRows), y, z);
    }

    void LaunchMma(string kernel, int rows, int batch, uint shared, ref KernelArgs args)
    {
        var (x, y, z) = MmaGrid(rows, batch);
        Dev.Launch("attention_mma.cu", kernel, x, y, z, MmaThreads, shared, ref args);
    }

    static (int T, int S, int D, int Dv, int Batch) Sizes(Tensor q, Tensor k, Tensor v)
    {
        int T = q.shape[^2], D = q.shape[^1], S = k.shape[^2], Dv = v.shape[^1];
        var batch = (int)Shapes.Count(q.shape.AsSpan(0, q.Rank - 2));
        if (D > MaxHeadSize || Dv > MaxHeadSize)
            throw new NotSupportedException(
                $"ScaledDotProductAttention (CUDA): head sizes up to {MaxHeadSize} are supported, got q {Shapes.Format(q.shape)}, v {Shapes.Format(v.shape)} " +
                "(Functional.ScaledDotProductAttention runs the composite attention for larger heads).");
        if (q.Rank - 2 > CudaAttentionLayout.MaxBatchDims)
            throw new NotSupportedException($"ScaledDotProductAttention (CUDA): at most {CudaAttentionLayout.MaxBatchDims} batch dims, got {q.Rank - 2}.");
        return (T, S, D, Dv, batch);
    }

    /// <summary>Batch strides, offsets and row distances of the eight operands (absent ones zero).</summary>
    static CudaAttentionLayout AttentionLayout(Tensor q, Tensor k, Tensor v, Tensor output, Tensor? gradOutput, Tensor? gq, Tensor? gk, Tensor? gv)
    {
        var layout = new CudaAttentionLayout { Rank = q.Rank - 2 };
        for (var d = 0; d < layout.Rank; d++) layout.Shape[d] = q.shape[d];
        Tensor?[] operands = [q, k, v, output, gradOutput, gq, gk, gv];
        for (var o = 0; o < operands.Length; o++)
        {
            if (operands[o] is not { } t) continue;
            layout.Offsets[o] = t.offset;
            layout.Ld[o] = t.strides[^2] == 0 || t.shape[^2] == 1 ? t.shape[^1] : t.strides[^2];
            for (var d = 0; d < layout.Rank; d++) layout.Strides[o * CudaAttentionLayout.MaxBatchDims + d] = t.strides[d];
        }
        return layout;
    }
}
