using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// Fused row kernels (softmax, log-softmax, cross-entropy, layer and RMS norm, forward and backward),
/// one block per row of a contiguous [rows, n] tensor. Letters: N rows, C classes / features.
/// </summary>
internal sealed partial class CudaBackend
{
    /// <summary>Threads per row: enough to cover short rows in one pass, 512 for long ones.</summary>
    static uint RowThreads(int n) => (uint)Math.Clamp((n + 31) / 32 * 32, 32, 512);

    static int Rows(Tensor t, int n) => n == 0 ? 0 : (int)(t.Count / n);

    public override void Softmax(Tensor x, Tensor y, bool log)
    {
        var n = x.shape[^1];
        var rows = Rows(x, n);
        if (rows == 0) return;
        var args = new KernelArgs();
        args.Add(P(x));
        args.Add(P(y));
        args.Add(n);
        args.Add(log ? 1 : 0);
        Dev.Launch("rows.cu", "softmax_forward", (uint)rows, 1, RowThreads(n), 0, ref args);
    }

    public override void SoftmaxBackward(Tensor y, Tensor gy, Tensor gx, bool log)
    {
        var n = y.shape[^1];
        var rows = Rows(y, n);
        if (rows == 0) return;
        gy = ContiguousAs(gy, DType.Float32);
        var args = new KernelArgs();
        args.Add(P(y));
        args.Add(P(gy));
        args.Add(P(gx));
        args.Add(n);
        args.Add(log ? 1 : 0);
        Dev.Launch("rows.cu", "softmax_backward", (uint)rows, 1, RowThreads(n), 0, ref args);
    }

    public override void CrossEntropy(Tensor logits, Tensor targets, int ignoreIndex, float labelSmoothing, Tensor losses, Tensor logSumExp)
    {
        var classes = logits.shape[^1];
        var rows = (int)targets.Count;
        if (rows == 0) return;
        var args = new KernelArgs();
        AddRowsInput(ref args, logits);
        args.Add(P(targets));
        args.Add(classes);
        args.Add(ignoreIndex);
        args.Add(labelSmoothing);
        args.Add(P(losses));
        args.Add(P(logSumExp));
        Dev.Launch("rows.cu", "cross_entropy_forward", (uint)rows, 1, RowThreads(classes), 0, ref args);
    }

    public override void CrossEntropyBackward(Tensor logits, Tensor targets, Tensor logSumExp, Tensor gradLosses,
        int ignoreIndex, float labelSmoothing, Tensor gradLogits) =>
        CrossEntropyBackward(logits, targets, logSumExp, gradLosses, ignoreIndex, labelSmoothing, gradLogits, DType.Float32);

    public override void CrossEntropyBackwardRounded(Tensor logits, Tensor targets, Tensor logSumExp, Tensor gradLosses,
        int ignoreIndex, float labelSmoothing, Tensor gradLogits, DType precision)
    {
        if (!CanHold(gradLogits)) base.CrossEntropyBackwardRounded(logits, targets, logSumExp, gradLosses, ignoreIndex, labelSmoothing, gradLogits, precision);
        else CrossEntropyBackward(logits, targets, logSumExp, gradLosses, ignoreIndex, labelSmoothing, gradLogits, precision);
    }

    /// <summary>The kernel, storing gradLogits in <paramref name="format"/>: float32, or bf16/fp16 held (<see cref="Output"/>).</summary>
    void CrossEntropyBackward(Tensor logits, Tensor targets, Tensor logSumExp, Tensor gradLosses,
        int ignoreIndex, float labelSmoothing, Tensor gradLogits, DType format)
    {
        var classes = logits.shape[^1];
        var rows = (int)targets.Count;
        if (rows == 0) return;
        gradLosses = ContiguousAs(gradLosses, DType.Float32);
        var args = new KernelArgs();
        var output = Output(gradLogits, format);   // outputs first (AddInput)
        AddRowsInput(ref args, logits);
        args.Add(P(targets));
        args.Add(P(logSumExp));
        args.Add(P(gradLosses));
        args.Add(classes);
        args.Add(ignoreIndex);
        args.Add(labelSmoothing);
        args.Add(output.Base);
        args.Add(output.Type);
        Dev.Launch("rows.cu", "cross_entropy_backward", (uint)rows, 1, RowThreads(classes), 0, ref args);
    }

    public override void LayerNorm(Tensor x, Tensor? weight, Tensor? bias, float eps, bool rms, Tensor y, Tensor mean, Tensor rstd)
    {
        var n = x.shape[^1];
        var rows = Rows(x, n);
        if (rows == 0) return;
        var args = new KernelArgs();
        args.Add(P(x));
        args.Add(Optional(weight));
        args.Add(Optional(bias));
        args.Add(eps);
        args.Add(rms ? 1 : 0);
        args.Add(n);
        args.Add(P(y));
        args.Add(P(mean));
        args.Add(P(rstd));
        Dev.Launch("rows.cu", "layer_norm_forward", (uint)rows, 1, RowThreads(n), 0, ref args);
    }

    /// <summary>Rows per partial sum of the weight/bias gradients (then summed in order): fixed, so the result repeats.</summary>
    const int NormRowsPerChunk = 32;

    /// <summary>
    /// layer_norm_param_grads' grid: x = the chunks of <see cref="NormRowsPerChunk"/> rows, y = the blocks of
    /// columns. Chunks go on x, whose limit is 2^31 - 1; on y (limit 65535) more than 2.1M rows failed to launch.
    /// </summary>
    internal static (uint X, uint Y) NormParamGradsGrid(int rows, int n) =>
        ((uint)((rows + NormRowsPerChunk - 1) / NormRowsPerChunk), (uint)((n + CudaDevice.Threads - 1) / CudaDevice.Threads));

    public override void LayerNormBackward(Tensor x, Tensor? weight, Tensor mean, Tensor rstd, Tensor gy, bool rms,
        Tensor gx, Tensor? gWeight, Tensor? gBias)
    {
        var n = x.shape[^1];
        var rows = Rows(x, n);
        gy = ContiguousAs(gy, DType.Float32);
        if (rows == 0)
        {
            if (gWeight is not null) Fill(gWeight, 0f);
            if (gBias is not null) Fill(gBias, 0f);
            return;
        }
        var args = new KernelArgs();
        var gxAddress = P(gx);   // outputs first (AddInput)
        args.Add(P(x));
        args.Add(Optional(weight));
        args.Add(P(mean));
        args.Add(P(rstd));
        AddRowsInput(ref args, gy);
        args.Add(rms ? 1 : 0);
        args.Add(n);
        args.Add(gxAddress);
        Dev.Launch("rows.cu", "layer_norm_backward", (uint)rows, 1, RowThreads(n), 0, ref args);
        if (gWeight is null && gBias is null) return;

        var chunks = (rows + NormRowsPerChunk - 1) / NormRowsPerChunk;
        var partialW = gWeight is null ? null : Temp([chunks, n], DType.Float32);
        var partialB = gBias is null ? null : Temp([chunks, n], DType.Float32);
        var sums = new KernelArgs();
        sums.Add(P(x));
        sums.Add(P(mean));
        sums.Add(P(rstd));
        AddRowsInput(ref sums, gy);
        sums.Add(rows);
        sums.Add(n);
        sums.Add(NormRowsPerChunk);
        sums.Add(Optional(partialW));
        sums.Add(Optional(partialB));
        var (gridX, gridY) = NormParamGradsGrid(rows, n);
        Dev.Launch("rows.cu", "layer_norm_param_grads", gridX, gridY, CudaDevice.Threads, 0, ref sums);
        if (partialW is not null) Reduce(ReduceOp.Sum, partialW, 1, chunks, n, gWeight!, null);
        if (partialB is not null) Reduce(ReduceOp.Sum, partialB, 1, chunks, n, gBias!, null);
    }
}
