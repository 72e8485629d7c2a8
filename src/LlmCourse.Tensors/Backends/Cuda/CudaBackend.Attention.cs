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
    /// An operand held in 16 bits (an autocast product's result, <see cref="CudaStorage.HeldAs"/>: q, k, v from the
    /// projection, gradOutput from the next projection's backward) is read as it is, and the output and the gradients,
    /// fresh buffers, are stored held: 2 bytes an element each way instead of 4 (<see cref="MmaOperands"/>).
    /// </summary>
    public override bool AttentionRoundsItself(DType precision, int headSize, int valueSize) =>
        TensorCoreKernel(precision, headSize, valueSize, Dev.ComputeCapability) is not null;

    public override void Attention(Tensor q, Tensor k, Tensor v, bool causal, float scale, float dropoutP, ulong dropoutSeed,
        DType precision, Tensor output, Tensor logSumExp)
    {
        var (T, S, D, Dv, batch) = Sizes(q, k, v);
        if (batch == 0 || T == 0) return;
        var layout = AttentionLayout(q, k, v, output, null, null, null, null);
        var mmaKernel = TensorCoreKernel(precision, D, Dv, Dev.ComputeCapability);
        var operands = new MmaOperands(mmaKernel is null ? DType.Float32 : precision);
        var args = new KernelArgs();
        args.Add(layout);
        var outputAddress = operands.Output(output, MmaOperands.O);
        args.Add(operands.Input(q, MmaOperands.Q));
        args.Add(operands.Input(k, MmaOperands.K));
        args.Add(operands.Input(v, MmaOperands.V));
        args.Add(outputAddress);
        args.Add(P(logSumExp));
        args.Add(T);
        args.Add(S);
        args.Add(D);
        args.Add(Dv);
        args.Add(causal ? 1 : 0);
        args.Add(scale);
        args.Add(dropoutP);
        args.Add((long)dropoutSeed);
        if (mmaKernel is { } mma)
        {
            args.Add((long)batch);
            args.Add(operands.Held);
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
        var mma = TensorCoreKernel(precision, D, Dv, Dev.ComputeCapability);
        var operands = new MmaOperands(mma is null ? DType.Float32 : precision);
        var (gqAddress, gkAddress, gvAddress) =
            (operands.Output(gq, MmaOperands.DQ), operands.Output(gk, MmaOperands.DK), operands.Output(gv, MmaOperands.DV));
        var (qAddress, kAddress, vAddress, gradOutputAddress) = (operands.Input(q, MmaOperands.Q), operands.Input(k, MmaOperands.K),
            operands.Input(v, MmaOperands.V), operands.Input(gradOutput, MmaOperands.DO));
        var delta = Temp([batch, T], DType.Float32);
        var d = new KernelArgs();
        d.Add(layout);
        AddInput(ref d, output);
        AddInput(ref d, gradOutput);
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
        dq.Add(qAddress);
        dq.Add(kAddress);
        dq.Add(vAddress);
        dq.Add(gradOutputAddress);
        dq.Add(P(logSumExp));
        dq.Add(P(delta));
        dq.Add(gqAddress);
        dq.Add(T);
        dq.Add(S);
        dq.Add(D);
        dq.Add(Dv);
        dq.Add(causal ? 1 : 0);
        dq.Add(scale);
        dq.Add(dropoutP);
        dq.Add((long)dropoutSeed);
        var (gridY, gridZ) = BatchGrid(batch);
        if (mma is not null)
        {
            dq.Add((long)batch);
            dq.Add(operands.Held);
            LaunchMma("attention_backward_dq_mma_" + mma.Value.Name, T, batch, mma.Value.Shared(ExtraFloats: 0), ref dq);
        }
        else Dev.Launch("attention.cu", "attention_backward_dq", (uint)((T + AttentionRows - 1) / AttentionRows), gridY,
            gridZ, AttentionRows * 32, shared, ref dq);

        var dkdv = new KernelArgs();
        dkdv.Add(layout);
        dkdv.Add(qAddress);
        dkdv.Add(kAddress);
        dkdv.Add(vAddress);
        dkdv.Add(gradOutputAddress);
        dkdv.Add(P(logSumExp));
        dkdv.Add(P(delta));
        dkdv.Add(gkAddress);
        dkdv.Add(gvAddress);
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
            dkdv.Add(operands.Held);
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
    /// The addresses attention's kernels get, and the <c>held</c> bits (attention_mma.cu's HELD_Q ...) saying which
    /// blocks hold 16-bit values. With the tensor-core kernels (<paramref name="format"/> bf16/fp16) an input held in
    /// that format is passed as it is, and an output that is its storage's only view (a fresh buffer from the op) is
    /// made held and written so; otherwise (the float32 kernels, another format) the float32 block, widened if need be.
    /// Outputs first: an input held by the same storage as an output would then be read as the float32 it became.
    /// </summary>
    sealed class MmaOperands(DType format)
    {
        public const int Q = 1, K = 2, V = 4, DO = 8, O = 16, DQ = 32, DK = 64, DV = 128;

        public int Held { get; private set; }

        public ulong Input(Tensor t, int bit)
        {
            if (format == DType.Float32 || S(t).HeldAs != format) return Base(t);
            Held |= bit;
            return S(t).HeldPointer;
        }

        public ulong Output(Tensor t, int bit)
        {
            if (format == DType.Float32 || !CanHold(t)) return Base(t);
            Held |= bit;
            return CudaBackend.Output(t, format).Base;
        }
    }

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
