namespace LlmCourse.Tensors.Backends;

/// <summary>Element-wise functions of one tensor. <c>alpha</c>/<c>beta</c> carry Pow's exponent and Clamp's bounds.</summary>
internal enum UnaryOp
{
    Neg, Exp, Log, Sqrt, Rsqrt, Tanh, Sigmoid, Relu, Gelu, GeluTanh, Abs, Square, Pow, Clamp, LogSigmoid, Sin, Cos,
    Reciprocal, Silu, Softplus,
}

internal enum BinaryOp { Add, Sub, Mul, Div, Pow, Maximum, Minimum }

internal enum CompareOp { Eq, Ne, Gt, Ge, Lt, Le }

internal enum ReduceOp { Sum, Max, Min }

/// <summary>What <see cref="Backend.Generate"/> draws: U(a, b) or N(a, b^2).</summary>
internal enum Distribution { Uniform, Normal }

/// <summary>One Adam/AdamW update, PyTorch's formula and order of operations (see <c>Optim/Adam.cs</c>).</summary>
internal readonly record struct AdamStepArgs(
    float LearningRate, float Beta1, float Beta2, float Eps, float WeightDecay, bool Decoupled, int Step);

/// <summary>One parameter's Adam/AdamW update: the tensors it reads and writes, and its step's arguments.</summary>
internal readonly record struct AdamUpdate(Tensor Param, Tensor Grad, Tensor ExpAvg, Tensor ExpAvgSq, AdamStepArgs Args);

/// <summary>
/// The kernels one device provides. Ops (autograd, shapes, errors) are written once against this;
/// the CPU backend implements it now and a CUDA backend later, so model code never branches on the device.
/// Conventions: shapes were checked by the caller; an output tensor is contiguous unless said otherwise;
/// inputs may be any strided view (including broadcast stride-0 views) unless said "contiguous".
/// "Rows" kernels treat a contiguous tensor as [rows, n] over its last dim.
/// </summary>
internal abstract class Backend
{
    public abstract Device Device { get; }

    public abstract Storage Allocate(DType dtype, long count, bool zeroed);

    // ---- moving data -------------------------------------------------------------------------
    public abstract float ReadElement(Storage storage, long offset);

    /// <summary>Row-major host values into a contiguous tensor, converted to its dtype.</summary>
    public abstract void Upload(ReadOnlySpan<float> source, Tensor destination);

    public abstract void Upload(ReadOnlySpan<int> source, Tensor destination);

    /// <summary>Any view, row-major, converted to float (or int, truncating).</summary>
    public abstract void Download(Tensor source, Span<float> destination);

    public abstract void Download(Tensor source, Span<int> destination);

    /// <summary>Same-shape copy between any two views, converting dtypes. The destination may be strided.</summary>
    public abstract void Copy(Tensor source, Tensor destination);

    /// <summary>Sets every element of a (possibly strided) view.</summary>
    public abstract void Fill(Tensor destination, float value);

    /// <summary>
    /// Fills a contiguous Float32 tensor with draws from <paramref name="generator"/>, in row-major
    /// order (the sequence is the same on every device: it is drawn on the host).
    /// </summary>
    public abstract void Generate(Tensor destination, Generator generator, Distribution distribution, float a, float b);

    // ---- element-wise ------------------------------------------------------------------------
    public abstract void Unary(UnaryOp op, Tensor x, Tensor y, float alpha, float beta);

    /// <summary><c>gx = gy * f'(x)</c>, with the forward output <paramref name="y"/> at hand when f' is cheaper from it.</summary>
    public abstract void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, float alpha, float beta);

    /// <summary>
    /// Autocast's activation of a 16-bit result: <see cref="Unary"/> with y rounded to <paramref name="precision"/>
    /// (bf16/fp16), as PyTorch computes it in its input's dtype. Here the op, then a rounding pass; a backend may
    /// round as it stores (CUDA: a fresh y is held in 16 bits).
    /// </summary>
    public virtual void UnaryRounded(UnaryOp op, Tensor x, Tensor y, float alpha, float beta, DType precision)
    {
        Unary(op, x, y, alpha, beta);
        y.RoundInPlace(precision);
    }

    /// <summary>The gradient of <see cref="UnaryRounded"/>'s input, rounded as that input was (a 16-bit tensor's gradient is 16-bit in PyTorch).</summary>
    public virtual void UnaryBackwardRounded(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, float alpha, float beta, DType precision)
    {
        UnaryBackward(op, x, y, gy, gx, alpha, beta);
        gx.RoundInPlace(precision);
    }

    /// <summary><paramref name="a"/> and <paramref name="b"/> are already expanded to y's shape. y may be <paramref name="a"/> itself (in place).</summary>
    public abstract void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y);

    /// <summary><c>y = a op b</c>, or <c>b op a</c> when <paramref name="scalarFirst"/>. y may be <paramref name="a"/> itself.</summary>
    public abstract void BinaryScalar(BinaryOp op, Tensor a, float b, bool scalarFirst, Tensor y);

    /// <summary>1 where the comparison holds, else 0 (Float32 output); Int32 inputs compare exactly.</summary>
    public abstract void Compare(CompareOp op, Tensor a, Tensor b, Tensor y);

    /// <summary><c>y = condition != 0 ? a : b</c>, all three expanded to y's shape.</summary>
    public abstract void Where(Tensor condition, Tensor a, Tensor b, Tensor y);

    /// <summary>In place: <c>y = alpha * y + beta * x</c> (gradient accumulation, SGD momentum).</summary>
    public abstract void ScaleAdd(Tensor y, float alpha, Tensor x, float beta);

    /// <summary>
    /// Dropout with no mask in memory: <c>y[i] = x[i] * (kept ? scale : 0)</c>, element i kept when
    /// <see cref="CounterDropout.Keeps"/>(seed, i, keep), i its row-major index. x and y contiguous, of one size. The
    /// backward is the same call on the gradient with the same seed: the mask is recomputed, never stored or uploaded.
    /// </summary>
    public abstract void Dropout(Tensor x, float keep, float scale, ulong seed, Tensor y);

    // ---- reductions (x contiguous, viewed as [outer, size, inner]; y is [outer, inner]) -------
    public abstract void Reduce(ReduceOp op, Tensor x, int outer, int size, int inner, Tensor y, Tensor? indices);

    public abstract void CumSum(Tensor x, int outer, int size, int inner, Tensor y);

    /// <summary>Rows of x (contiguous [rows, n]): the k largest (or smallest) values, sorted, and their Int32 indices.</summary>
    public abstract void TopK(Tensor x, int k, bool largest, Tensor values, Tensor indices);

    public abstract (bool NaN, bool Infinity) FindNonFinite(Tensor t);

    /// <summary>Sum of squares in double precision (gradient norms).</summary>
    public abstract double SumOfSquares(Tensor t);

    /// <summary>
    /// The sum of squares of several tensors together (a global gradient norm): one result to read back,
    /// where a GPU backend waits for the device once instead of once per tensor. By default the tensors'
    /// own sums, added in order.
    /// </summary>
    public virtual double SumOfSquares(IReadOnlyList<Tensor> tensors)
    {
        double total = 0;
        foreach (var t in tensors) total += SumOfSquares(t);
        return total;
    }

    // ---- linear algebra ----------------------------------------------------------------------
    /// <summary>
    /// c[..., m, n] = a[..., m, k] @ b[..., k, n] over identical batch shapes (broadcast batches come
    /// as stride-0 views), plus c's old value when <paramref name="accumulate"/>. a and b may be transposed views,
    /// and (from <see cref="MatMulOperand"/>) 16-bit tensors where the backend makes those.
    /// </summary>
    public abstract void MatMul(Tensor a, Tensor b, Tensor c, bool accumulate);

    /// <summary>
    /// Autocast's product: c = a @ b (as <see cref="MatMul"/>, without accumulating) rounded to <paramref name="precision"/>
    /// (bf16/fp16), as PyTorch's 16-bit products return it. Here a product, then a rounding pass; a backend may
    /// round as it writes (CUDA: cuBLAS writes 16-bit values, and c's storage keeps them: held in 16 bits).
    /// </summary>
    public virtual void MatMulRounded(Tensor a, Tensor b, Tensor c, DType precision)
    {
        MatMul(a, b, c, accumulate: false);
        c.RoundInPlace(precision);
    }

    /// <summary>Whether <see cref="MatMulRounded"/> rounds as it stores, with no rounding pass of its own (what a profile should show).</summary>
    public virtual bool MatMulRoundsAsItStores => false;

    /// <summary>
    /// Autocast's operand of a matrix product: <paramref name="t"/>'s values rounded to <paramref name="precision"/>
    /// (itself for Float32), with t's shape and strides. The CPU gives a float32 tensor of rounded values; a GPU gives
    /// bf16/fp16 storage, what its tensor cores read, converted in one pass. Autograd saves these for the backward
    /// products, so each operand is converted once per step, as PyTorch's autocast does.
    /// </summary>
    public virtual Tensor MatMulOperand(Tensor t, DType precision) => t.RoundedTo(precision);

    /// <summary>
    /// A zeroed Float32 gradient of <paramref name="shape"/> that part views' gradients like <paramref name="part"/> are
    /// copied into (a split's query, key and value). A backend may hold it in part's 16-bit format when part is held so
    /// (CUDA); any other write widens it.
    /// </summary>
    public virtual Tensor ZerosForParts(int[] shape, Tensor part) => Tensor.Allocate(shape, DType.Float32, part.Device, zeroed: true);

    // ---- fused row kernels -------------------------------------------------------------------
    public abstract void Softmax(Tensor x, Tensor y, bool log);

    public abstract void SoftmaxBackward(Tensor y, Tensor gy, Tensor gx, bool log);

    /// <summary>
    /// logits [rows, classes], Int32 targets [rows]: per-row loss (0 where the target is ignored) and
    /// the row's log-sum-exp, kept for backward. Targets were bounds-checked by the op (<see cref="CheckIndices"/>);
    /// a kernel given a bad one anyway must not read outside the row (CUDA reports the check later).
    /// </summary>
    public abstract void CrossEntropy(Tensor logits, Tensor targets, int ignoreIndex, float labelSmoothing, Tensor losses, Tensor logSumExp);

    /// <summary>gradLogits = gradLosses[row] * (softmax - smoothed one-hot), 0 on ignored rows.</summary>
    public abstract void CrossEntropyBackward(Tensor logits, Tensor targets, Tensor logSumExp, Tensor gradLosses,
        int ignoreIndex, float labelSmoothing, Tensor gradLogits);

    /// <summary>
    /// The gradient of autocast's 16-bit logits (an output layer's product): <see cref="CrossEntropyBackward"/> rounded to
    /// <paramref name="precision"/>, as PyTorch's is (the loss runs in float32 on a float32 copy of bf16 logits, and that
    /// copy's backward gives the logits a bf16 gradient). Here the op, then a rounding pass; a backend may round as it
    /// stores (CUDA: a fresh gradLogits is held in 16 bits, half the bytes of the largest tensor of a language model's step).
    /// </summary>
    public virtual void CrossEntropyBackwardRounded(Tensor logits, Tensor targets, Tensor logSumExp, Tensor gradLosses,
        int ignoreIndex, float labelSmoothing, Tensor gradLogits, DType precision)
    {
        CrossEntropyBackward(logits, targets, logSumExp, gradLosses, ignoreIndex, labelSmoothing, gradLogits);
        gradLogits.RoundInPlace(precision);
    }

    /// <summary>Layer norm (or RMS norm when <paramref name="rms"/>) over rows; saves mean and 1/std per row.</summary>
    public abstract void LayerNorm(Tensor x, Tensor? weight, Tensor? bias, float eps, bool rms, Tensor y, Tensor mean, Tensor rstd);

    /// <summary>gx for the rows; gWeight/gBias (when not null) are overwritten with the sums over rows.</summary>
    public abstract void LayerNormBackward(Tensor x, Tensor? weight, Tensor mean, Tensor rstd, Tensor gy, bool rms,
        Tensor gx, Tensor? gWeight, Tensor? gBias);

    // ---- attention -----------------------------------------------------------------------------
    /// <summary>The largest head size (D and Dv) <see cref="Attention"/> takes; larger heads run the composite attention.</summary>
    public virtual int FusedAttentionMaxHeadSize => int.MaxValue;

    /// <summary>
    /// Whether <see cref="Attention"/> and <see cref="AttentionBackward"/> round to <paramref name="precision"/>
    /// themselves (the same round-to-nearest-even as <c>RoundedTo</c>): float32 q, k, v and gradOutput as they read
    /// them, the output and gq, gk, gv as they write them. Then autocast makes no rounded copies and no rounding
    /// passes around them. The CPU's kernels compute on the values they are given and store what they compute: false.
    /// </summary>
    public virtual bool AttentionRoundsItself(DType precision, int headSize, int valueSize) => false;

    /// <summary>
    /// Fused softmax(scale q k^T) v over batches of matrices: q [..., T, D], k [..., S, D], v [..., S, Dv]
    /// (same batch dims, any batch strides, each row contiguous); output [..., T, Dv] likewise (rows
    /// contiguous, any batch strides and row distance), the rows' log-sum-exp [..., T] contiguous. Causal: query i sees keys j &lt;= i. With <paramref name="dropoutP"/>
    /// &gt; 0 entry (b, i, j) of the probabilities is dropped by <see cref="CounterDropout"/>'s hash of
    /// (<paramref name="dropoutSeed"/>, (b T + i) S + j), so backward, and every backend, drops the same entries.
    /// <paramref name="precision"/> is what q, k and v were rounded to: Float32, or BFloat16/Float16 under autocast,
    /// where a backend may multiply in that format with float32 sums (CUDA: tensor cores, the probabilities rounded
    /// to it before they multiply v, as FlashAttention does); the CPU computes in float32 either way.
    /// </summary>
    public abstract void Attention(Tensor q, Tensor k, Tensor v, bool causal, float scale, float dropoutP, ulong dropoutSeed,
        DType precision, Tensor output, Tensor logSumExp);

    /// <summary>Gradients of <see cref="Attention"/>, recomputing the probabilities from the saved log-sum-exp; gradOutput, gq, gk, gv laid out as output is.</summary>
    public abstract void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor output, Tensor logSumExp, Tensor gradOutput,
        bool causal, float scale, float dropoutP, ulong dropoutSeed, DType precision, Tensor gq, Tensor gk, Tensor gv);

    // ---- indexing ----------------------------------------------------------------------------
    /// <summary>
    /// The bounds check of index ops: every value of the contiguous, non-empty Int32 <paramref name="indices"/>
    /// must lie in [0, <paramref name="size"/>) or equal <paramref name="allowed"/> (cross-entropy's ignoreIndex).
    /// The first one that does not (lowest position) is reported as a <see cref="TensorShapeException"/> with
    /// <see cref="IndexCheck.Message"/> of <paramref name="message"/>. The CPU throws before returning; CUDA only
    /// queues the check and throws at the device's next read-back (<see cref="Cuda.CudaDeviceAsserts"/>), as
    /// PyTorch's device-side asserts do, so a training step never waits for the GPU to check its ids.
    /// </summary>
    public abstract void CheckIndices(Tensor indices, int size, int? allowed, string message);

    /// <summary>x contiguous [outer, size, inner], Int32 indices [n] → y [outer, n, inner].</summary>
    public abstract void IndexSelect(Tensor x, Tensor indices, int outer, int size, int inner, Tensor y);

    /// <summary>gx [outer, size, inner] += g [outer, n, inner] at the indices (duplicates add up, in index order).</summary>
    public abstract void IndexAdd(Tensor g, Tensor indices, int outer, int size, int inner, Tensor gx);

    /// <summary>y[i][j][k] = x[i][index[i][j][k]][k] for dim 1 (any rank; index and y share a shape).</summary>
    public abstract void Gather(Tensor x, int dim, Tensor index, Tensor y);

    /// <summary>gx[i][index[i][j][k]][k] += g[i][j][k] for dim 1; gx contiguous.</summary>
    public abstract void ScatterAdd(Tensor g, int dim, Tensor index, Tensor gx);

    // ---- mixed precision ---------------------------------------------------------------------
    /// <summary>
    /// y = x rounded to the nearest value <paramref name="precision"/> (BFloat16 or Float16) can hold,
    /// ties to even, kept as Float32 (autocast's operands). x and y contiguous Float32 of one count; y may be x.
    /// </summary>
    public virtual void RoundTo(DType precision, Tensor x, Tensor y)
    {
        var narrow = Tensor.Allocate(x.shape, precision, Device);
        Copy(x, narrow);
        Copy(narrow, y);
    }

    /// <summary>Waits until every kernel queued so far has finished (kernels on a GPU are queued; on the CPU they ran in the call).</summary>
    public virtual void Synchronize() { }

    // ---- optimizers (in place) ---------------------------------------------------------------
    /// <summary>
    /// Every tensor multiplied by <paramref name="factor"/> in place (gradient clipping's rescale); a GPU does it in one
    /// launch for all of them. The same single rounding per element as <see cref="BinaryScalar"/>'s multiply.
    /// </summary>
    public virtual void ScaleInPlace(IReadOnlyList<Tensor> tensors, float factor)
    {
        foreach (var t in tensors) t.Backend.BinaryScalar(BinaryOp.Mul, t, factor, false, t);
    }

    /// <summary>
    /// Gradient clipping on this device (<see cref="Optim.GradClip"/>): the global L2 norm of the tensors (sums of
    /// squares in double precision), then every tensor scaled by max_norm / (norm + 1e-6) where that is below 1 (or
    /// NaN). Returns the norm before clipping as a one-element float32 tensor on this device, not read back: a GPU
    /// queues all of it and the host waits only when someone reads the norm (PyTorch's <c>clip_grad_norm_</c> returns
    /// a tensor the same way). Here the norm is computed on the host first.
    /// </summary>
    public virtual Tensor ClipToGlobalNorm(IReadOnlyList<Tensor> tensors, float maxNorm)
    {
        var total = (float)Math.Sqrt(SumOfSquares(tensors));
        if (Optim.GradClip.ClipCoefficient(total, maxNorm, out var coefficient)) ScaleInPlace(tensors, coefficient);
        return Tensor.FromArray([total], [1], tensors.Count > 0 ? tensors[0].Device : Device.Cpu);
    }

    public abstract void AdamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, in AdamStepArgs args);

    /// <summary>A whole step's updates (every parameter on this device): a GPU runs them in one launch. One by one here.</summary>
    public virtual void AdamSteps(IReadOnlyList<AdamUpdate> updates)
    {
        foreach (var u in updates) AdamStep(u.Param, u.Grad, u.ExpAvg, u.ExpAvgSq, u.Args);
    }

    /// <summary>Whether <see cref="AdamSteps"/> is one kernel (the profiler then times one call, not one per parameter).</summary>
    public virtual bool AdamStepsInOneLaunch => false;
}
