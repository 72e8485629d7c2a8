using System.Diagnostics;

namespace LlmCourse.Tensors.Backends;

/// <summary>
/// A decorator that times every kernel of the backend it wraps for an <see cref="OpProfiler"/>:
/// <c>Device.Backend</c> hands it out instead of the device's own while a profiler records. Each
/// method forwards to the wrapped backend unchanged, waits for the device (a no-op on the CPU) and
/// records the elapsed time under the method's name ("Unary.Gelu" for an op-carrying method). A
/// kernel that reaches the backend again from inside (an allocation inside attention) is counted in
/// the outer kernel only.
/// </summary>
internal sealed class ProfilingBackend(Backend inner, OpProfiler profiler) : Backend
{
    static readonly string[] UnaryNames = Names<UnaryOp>("Unary"), UnaryBackwardNames = Names<UnaryOp>("UnaryBackward");
    static readonly string[] BinaryNames = Names<BinaryOp>("Binary"), BinaryScalarNames = Names<BinaryOp>("BinaryScalar");
    static readonly string[] CompareNames = Names<CompareOp>("Compare"), ReduceNames = Names<ReduceOp>("Reduce");

    static string[] Names<TEnum>(string method) where TEnum : struct, Enum =>
        Enum.GetValues<TEnum>().Select(v => $"{method}.{v}").ToArray();

    [ThreadStatic] static int depth;

    /// <summary>Starts a kernel's clock (0 for a call nested inside another kernel, which is not recorded).</summary>
    long Begin() => depth++ == 0 ? Stopwatch.GetTimestamp() : 0;

    void End(string kernel, long start)
    {
        if (--depth != 0) return;
        inner.Synchronize();
        profiler.Record(kernel, Stopwatch.GetTimestamp() - start);
    }

    T Time<T>(string kernel, Func<T> call)
    {
        var start = Begin();
        try { return call(); }
        finally { End(kernel, start); }
    }

    public override Device Device => inner.Device;

    public override void Synchronize() => inner.Synchronize();

    public override Storage Allocate(DType dtype, long count, bool zeroed) => Time("Allocate", () => inner.Allocate(dtype, count, zeroed));

    public override float ReadElement(Storage storage, long offset) => Time("ReadElement", () => inner.ReadElement(storage, offset));

    public override void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        var start = Begin();
        try { inner.Upload(source, destination); } finally { End("Upload", start); }
    }

    public override void Upload(ReadOnlySpan<int> source, Tensor destination)
    {
        var start = Begin();
        try { inner.Upload(source, destination); } finally { End("Upload", start); }
    }

    public override void Download(Tensor source, Span<float> destination)
    {
        var start = Begin();
        try { inner.Download(source, destination); } finally { End("Download", start); }
    }

    public override void Download(Tensor source, Span<int> destination)
    {
        var start = Begin();
        try { inner.Download(source, destination); } finally { End("Download", start); }
    }

    public override void Copy(Tensor source, Tensor destination)
    {
        var start = Begin();
        try { inner.Copy(source, destination); } finally { End("Copy", start); }
    }

    public override void Fill(Tensor destination, float value)
    {
        var start = Begin();
        try { inner.Fill(destination, value); } finally { End("Fill", start); }
    }

    public override void Generate(Tensor destination, Generator generator, Distribution distribution, float a, float b)
    {
        var start = Begin();
        try { inner.Generate(destination, generator, distribution, a, b); } finally { End("Generate", start); }
    }

    public override void Unary(UnaryOp op, Tensor x, Tensor y, float alpha, float beta)
    {
        var start = Begin();
        try { inner.Unary(op, x, y, alpha, beta); } finally { End(UnaryNames[(int)op], start); }
    }

    public override void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, float alpha, float beta)
    {
        var start = Begin();
        try { inner.UnaryBackward(op, x, y, gy, gx, alpha, beta); } finally { End(UnaryBackwardNames[(int)op], start); }
    }

    public override void UnaryRounded(UnaryOp op, Tensor x, Tensor y, float alpha, float beta, DType precision)
    {
        if (!inner.MatMulRoundsAsItStores)   // the CPU: the op and its rounding pass, each timed as itself
        {
            base.UnaryRounded(op, x, y, alpha, beta, precision);
            return;
        }
        var start = Begin();
        try { inner.UnaryRounded(op, x, y, alpha, beta, precision); } finally { End(UnaryNames[(int)op], start); }
    }

    public override void UnaryBackwardRounded(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, float alpha, float beta, DType precision)
    {
        if (!inner.MatMulRoundsAsItStores)
        {
            base.UnaryBackwardRounded(op, x, y, gy, gx, alpha, beta, precision);
            return;
        }
        var start = Begin();
        try { inner.UnaryBackwardRounded(op, x, y, gy, gx, alpha, beta, precision); } finally { End(UnaryBackwardNames[(int)op], start); }
    }

    public override void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        var start = Begin();
        try { inner.Binary(op, a, b, y); } finally { End(BinaryNames[(int)op], start); }
    }

    public override void BinaryScalar(BinaryOp op, Tensor a, float b, bool scalarFirst, Tensor y)
    {
        var start = Begin();
        try { inner.BinaryScalar(op, a, b, scalarFirst, y); } finally { End(BinaryScalarNames[(int)op], start); }
    }

    public override void Compare(CompareOp op, Tensor a, Tensor b, Tensor y)
    {
        var start = Begin();
        try { inner.Compare(op, a, b, y); } finally { End(CompareNames[(int)op], start); }
    }

    public override void Where(Tensor condition, Tensor a, Tensor b, Tensor y)
    {
        var start = Begin();
        try { inner.Where(condition, a, b, y); } finally { End("Where", start); }
    }

    public override void ScaleAdd(Tensor y, float alpha, Tensor x, float beta)
    {
        var start = Begin();
        try { inner.ScaleAdd(y, alpha, x, beta); } finally { End("ScaleAdd", start); }
    }

    public override void Dropout(Tensor x, float keep, float scale, ulong seed, Tensor y)
    {
        var start = Begin();
        try { inner.Dropout(x, keep, scale, seed, y); } finally { End("Dropout", start); }
    }

    public override void Reduce(ReduceOp op, Tensor x, int outer, int size, int inner1, Tensor y, Tensor? indices)
    {
        var start = Begin();
        try { inner.Reduce(op, x, outer, size, inner1, y, indices); } finally { End(ReduceNames[(int)op], start); }
    }

    public override void CumSum(Tensor x, int outer, int size, int inner1, Tensor y)
    {
        var start = Begin();
        try { inner.CumSum(x, outer, size, inner1, y); } finally { End("CumSum", start); }
    }

    public override void TopK(Tensor x, int k, bool largest, Tensor values, Tensor indices)
    {
        var start = Begin();
        try { inner.TopK(x, k, largest, values, indices); } finally { End("TopK", start); }
    }

    public override (bool NaN, bool Infinity) FindNonFinite(Tensor t) => Time("FindNonFinite", () => inner.FindNonFinite(t));

    public override double SumOfSquares(Tensor t) => Time("SumOfSquares", () => inner.SumOfSquares(t));

    public override double SumOfSquares(IReadOnlyList<Tensor> tensors) => Time("SumOfSquares", () => inner.SumOfSquares(tensors));

    public override void MatMul(Tensor a, Tensor b, Tensor c, bool accumulate)
    {
        var start = Begin();
        try { inner.MatMul(a, b, c, accumulate); } finally { End("MatMul", start); }
    }

    public override bool MatMulRoundsAsItStores => inner.MatMulRoundsAsItStores;

    /// <summary>One "MatMul" where the wrapped backend rounds as it stores; else a product and a "RoundTo" pass, each timed.</summary>
    public override void MatMulRounded(Tensor a, Tensor b, Tensor c, DType precision)
    {
        if (!inner.MatMulRoundsAsItStores)
        {
            base.MatMulRounded(a, b, c, precision);
            return;
        }
        var start = Begin();
        try { inner.MatMulRounded(a, b, c, precision); } finally { End("MatMul", start); }
    }

    public override Tensor ZerosForParts(int[] shape, Tensor part)
    {
        var start = Begin();
        try { return inner.ZerosForParts(shape, part); } finally { End("Fill", start); }
    }

    public override Tensor MatMulOperand(Tensor t, DType precision)
    {
        if (precision == DType.Float32) return t;
        var start = Begin();
        try { return inner.MatMulOperand(t, precision); } finally { End("MatMulOperand", start); }
    }

    public override void Softmax(Tensor x, Tensor y, bool log)
    {
        var start = Begin();
        try { inner.Softmax(x, y, log); } finally { End("Softmax", start); }
    }

    public override void SoftmaxBackward(Tensor y, Tensor gy, Tensor gx, bool log)
    {
        var start = Begin();
        try { inner.SoftmaxBackward(y, gy, gx, log); } finally { End("SoftmaxBackward", start); }
    }

    public override void CrossEntropy(Tensor logits, Tensor targets, int ignoreIndex, float labelSmoothing, Tensor losses, Tensor logSumExp)
    {
        var start = Begin();
        try { inner.CrossEntropy(logits, targets, ignoreIndex, labelSmoothing, losses, logSumExp); } finally { End("CrossEntropy", start); }
    }

    public override void CrossEntropyBackward(Tensor logits, Tensor targets, Tensor logSumExp, Tensor gradLosses,
        int ignoreIndex, float labelSmoothing, Tensor gradLogits)
    {
        var start = Begin();
        try { inner.CrossEntropyBackward(logits, targets, logSumExp, gradLosses, ignoreIndex, labelSmoothing, gradLogits); }
        finally { End("CrossEntropyBackward", start); }
    }

    public override void CrossEntropyBackwardRounded(Tensor logits, Tensor targets, Tensor logSumExp, Tensor gradLosses,
        int ignoreIndex, float labelSmoothing, Tensor gradLogits, DType precision)
    {
        if (!inner.MatMulRoundsAsItStores)   // the CPU: the op and its rounding pass, each timed as itself
        {
            base.CrossEntropyBackwardRounded(logits, targets, logSumExp, gradLosses, ignoreIndex, labelSmoothing, gradLogits, precision);
            return;
        }
        var start = Begin();
        try { inner.CrossEntropyBackwardRounded(logits, targets, logSumExp, gradLosses, ignoreIndex, labelSmoothing, gradLogits, precision); }
        finally { End("CrossEntropyBackward", start); }
    }

    public override void LayerNorm(Tensor x, Tensor? weight, Tensor? bias, float eps, bool rms, Tensor y, Tensor mean, Tensor rstd)
    {
        var start = Begin();
        try { inner.LayerNorm(x, weight, bias, eps, rms, y, mean, rstd); } finally { End("LayerNorm", start); }
    }

    public override void LayerNormBackward(Tensor x, Tensor? weight, Tensor mean, Tensor rstd, Tensor gy, bool rms,
        Tensor gx, Tensor? gWeight, Tensor? gBias)
    {
        var start = Begin();
        try { inner.LayerNormBackward(x, weight, mean, rstd, gy, rms, gx, gWeight, gBias); } finally { End("LayerNormBackward", start); }
    }

    public override int FusedAttentionMaxHeadSize => inner.FusedAttentionMaxHeadSize;

    public override bool AttentionRoundsItself(DType precision, int headSize, int valueSize) =>
        inner.AttentionRoundsItself(precision, headSize, valueSize);

    public override void Attention(Tensor q, Tensor k, Tensor v, bool causal, float scale, float dropoutP, ulong dropoutSeed,
        DType precision, Tensor output, Tensor logSumExp)
    {
        var start = Begin();
        try { inner.Attention(q, k, v, causal, scale, dropoutP, dropoutSeed, precision, output, logSumExp); } finally { End("Attention", start); }
    }

    public override void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor output, Tensor logSumExp, Tensor gradOutput,
        bool causal, float scale, float dropoutP, ulong dropoutSeed, DType precision, Tensor gq, Tensor gk, Tensor gv)
    {
        var start = Begin();
        try { inner.AttentionBackward(q, k, v, output, logSumExp, gradOutput, causal, scale, dropoutP, dropoutSeed, precision, gq, gk, gv); }
        finally { End("AttentionBackward", start); }
    }

    public override void CheckIndices(Tensor indices, int size, int? allowed, string message)
    {
        var start = Begin();
        try { inner.CheckIndices(indices, size, allowed, message); } finally { End("CheckIndices", start); }
    }

    public override void IndexSelect(Tensor x, Tensor indices, int outer, int size, int inner1, Tensor y)
    {
        var start = Begin();
        try { inner.IndexSelect(x, indices, outer, size, inner1, y); } finally { End("IndexSelect", start); }
    }

    public override void IndexAdd(Tensor g, Tensor indices, int outer, int size, int inner1, Tensor gx)
    {
        var start = Begin();
        try { inner.IndexAdd(g, indices, outer, size, inner1, gx); } finally { End("IndexAdd", start); }
    }

    public override void Gather(Tensor x, int dim, Tensor index, Tensor y)
    {
        var start = Begin();
        try { inner.Gather(x, dim, index, y); } finally { End("Gather", start); }
    }

    public override void ScatterAdd(Tensor g, int dim, Tensor index, Tensor gx)
    {
        var start = Begin();
        try { inner.ScatterAdd(g, dim, index, gx); } finally { End("ScatterAdd", start); }
    }

    public override void RoundTo(DType precision, Tensor x, Tensor y)
    {
        var start = Begin();
        try { inner.RoundTo(precision, x, y); } finally { End("RoundTo", start); }
    }

    public override Tensor ClipToGlobalNorm(IReadOnlyList<Tensor> tensors, float maxNorm) =>
        Time("ClipToGlobalNorm", () => inner.ClipToGlobalNorm(tensors, maxNorm));

    public override void ScaleInPlace(IReadOnlyList<Tensor> tensors, float factor)
    {
        var start = Begin();
        try { inner.ScaleInPlace(tensors, factor); } finally { End("ScaleInPlace", start); }
    }

    public override void AdamSteps(IReadOnlyList<AdamUpdate> updates)
    {
        if (!inner.AdamStepsInOneLaunch)
        {
            base.AdamSteps(updates);   // one fused kernel per parameter, each timed (AdamStep below)
            return;
        }
        var start = Begin();
        try { inner.AdamSteps(updates); } finally { End("AdamStep", start); }
    }

    public override bool AdamStepsInOneLaunch => inner.AdamStepsInOneLaunch;

    public override void AdamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, in AdamStepArgs args)
    {
        var start = Begin();
        try { inner.AdamStep(param, grad, expAvg, expAvgSq, args); } finally { End("AdamStep", start); }
    }
}
