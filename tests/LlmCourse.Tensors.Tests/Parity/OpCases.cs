using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Tensors.Tests.Parity;

/// <summary>One engine spelling of a fixture case: <see cref="Run"/> maps the case's inputs to its outputs.</summary>
/// <param name="Name">The case in engine_ops.safetensors (see make_engine_fixtures.py, same name).</param>
/// <param name="Variant">Another spelling of the same op (operator vs method, Tensor vs Functional), or "".</param>
/// <param name="NoFiniteDifferences">Why the finite-difference check does not apply (a kink, a tie, a
/// deliberately detached path), or null.</param>
public sealed record OpCase(string Name, string Variant, Func<Tensor[], Tensor[]> Run,
    Tolerance Forward, Tolerance Backward, string? NoFiniteDifferences)
{
    public string Id => Variant.Length == 0 ? Name : $"{Name}:{Variant}";
    public override string ToString() => Id;
}

/// <summary>
/// Every op case, written with engine ops. Conventions: <c>x[i]</c> is the fixture's CASE/in/i (Float32,
/// or Int32 for indices and targets; masks are Float32 0/1); each lambda mirrors the Python lambda of
/// the same name in make_engine_fixtures.py. Tolerances default to <see cref="Tolerance.Elementwise"/>.
/// </summary>
public static class OpCases
{
    public static IReadOnlyList<OpCase> All { get; } = Build();

    public static OpCase Get(string id) => All.Single(c => c.Id == id);

    public static TheoryData<string> Ids => new(All.Select(c => c.Id));

    const string Kink = "the input sits on a kink or a tie, where only PyTorch's convention defines the gradient";
    const string Detached = "a path is detached on purpose, so the numeric derivative differs from the gradient by design";

    static IReadOnlyList<OpCase> Build()
    {
        var cases = new List<OpCase>();
        var E = Tolerance.Elementwise;
        var R = Tolerance.Reduction;
        var X = Tolerance.Exact;

        void Add(string name, Func<Tensor[], Tensor> run, Tolerance? forward = null, Tolerance? backward = null,
            string? noFd = null, string variant = "") =>
            cases.Add(new OpCase(name, variant, x => [run(x)], forward ?? E, backward ?? E, noFd));

        void AddMany(string name, Func<Tensor[], Tensor[]> run, Tolerance? forward = null, Tolerance? backward = null,
            string? noFd = null, string variant = "") =>
            cases.Add(new OpCase(name, variant, run, forward ?? E, backward ?? E, noFd));

        // --- element-wise, with broadcasting both ways
        Add("add", x => x[0] + x[1]);
        Add("add", x => x[0].Add(x[1]), variant: "method");
        Add("add_bcast_rhs", x => x[0] + x[1]);
        Add("add_bcast_lhs", x => x[0] + x[1]);
        Add("add_bcast_both", x => x[0] + x[1]);
        Add("add_scalar", x => x[0] + 2.5f);
        Add("add_scalar", x => 2.5f + x[0], variant: "scalar_first");
        Add("sub", x => x[0] - x[1]);
        Add("sub", x => x[0].Sub(x[1]), variant: "method");
        Add("sub_bcast", x => x[0] - x[1]);
        Add("rsub_scalar", x => 1.5f - x[0]);
        Add("mul", x => x[0] * x[1]);
        Add("mul", x => x[0].Mul(x[1]), variant: "method");
        Add("mul_bcast", x => x[0] * x[1]);
        Add("mul_scalar", x => x[0] * -3f);
        Add("mul_scalar", x => -3f * x[0], variant: "scalar_first");
        Add("div", x => x[0] / x[1]);
        Add("div", x => x[0].Div(x[1]), variant: "method");
        Add("div_bcast", x => x[0] / x[1]);
        Add("div_scalar", x => x[0] / 4f);
        Add("rdiv_scalar", x => 2f / x[0]);
        Add("neg", x => -x[0]);
        Add("neg", x => x[0].Neg(), variant: "method");
        Add("pow_2", x => x[0].Pow(2f));
        Add("pow_3", x => x[0].Pow(3f));
        Add("pow_half", x => x[0].Pow(0.5f));
        Add("pow_neg", x => x[0].Pow(-1.5f));
        Add("pow_tensor", x => x[0].Pow(x[1]));
        Add("pow_tensor_bcast", x => x[0].Pow(x[1]));
        Add("exp", x => x[0].Exp());
        Add("log", x => x[0].Log());
        Add("sqrt", x => x[0].Sqrt());
        Add("rsqrt", x => x[0].Rsqrt());
        Add("tanh", x => x[0].Tanh());
        Add("tanh", x => F.Tanh(x[0]), variant: "functional");
        Add("sigmoid", x => x[0].Sigmoid());
        Add("sigmoid", x => F.Sigmoid(x[0]), variant: "functional");
        Add("relu", x => x[0].Relu());
        Add("relu", x => F.Relu(x[0]), variant: "functional");
        Add("relu_at_zero", x => x[0].Relu(), noFd: Kink);
        Add("gelu", x => x[0].Gelu());
        Add("gelu", x => F.Gelu(x[0]), variant: "functional");
        Add("gelu_tanh", x => x[0].Gelu(GeluApproximation.Tanh));
        Add("abs", x => x[0].Abs());
        Add("square", x => x[0].Square());
        Add("clamp", x => x[0].Clamp(-0.5f, 0.5f));
        Add("clamp_min", x => x[0].Clamp(-0.3f, null));
        Add("clamp_max", x => x[0].Clamp(null, 0.2f));
        Add("clamp_at_bounds", x => x[0].Clamp(-0.5f, 0.5f), noFd: Kink);
        Add("masked_fill", x => x[0].MaskedFill(x[1], -2f), forward: X);
        Add("masked_fill_bcast", x => x[0].MaskedFill(x[1], 7f), forward: X);
        Add("where", x => Tensor.Where(x[0], x[1], x[2]), forward: X);
        Add("where_bcast", x => Tensor.Where(x[0], x[1], x[2]), forward: X);
        Add("maximum", x => Tensor.Maximum(x[0], x[1]), forward: X);
        Add("minimum", x => Tensor.Minimum(x[0], x[1]), forward: X);
        Add("maximum_bcast", x => Tensor.Maximum(x[0], x[1]), forward: X);
        Add("maximum_ties", x => Tensor.Maximum(x[0], x[1]), forward: X, noFd: Kink);
        Add("minimum_ties", x => Tensor.Minimum(x[0], x[1]), forward: X, noFd: Kink);
        Add("silu", x => F.Silu(x[0]));
        Add("softplus", x => F.Softplus(x[0]));
        Add("softplus_large", x => F.Softplus(x[0]));
        Add("log_sigmoid", x => F.LogSigmoid(x[0]));
        Add("log_sigmoid_large", x => F.LogSigmoid(x[0]));
        Add("gt", x => x[0].Gt(x[1]), forward: X);
        Add("le_scalar", x => x[0].Le(0.1f), forward: X);
        Add("eq", x => x[0].Eq(x[1]), forward: X);

        // --- reductions (their gradients are broadcasts: element-wise exact-ish)
        Add("sum_all", x => x[0].Sum(), forward: R);
        Add("sum_dim", x => x[0].Sum(1), forward: R);
        Add("sum_dim_keep", x => x[0].Sum(-1, keepDim: true), forward: R);
        Add("sum_dims", x => x[0].Sum([0, 2]), forward: R);
        Add("sum_dims_keep", x => x[0].Sum([0, 2], keepDim: true), forward: R);
        Add("mean_all", x => x[0].Mean(), forward: R);
        Add("mean_dim", x => x[0].Mean(0), forward: R);
        Add("mean_dim_keep", x => x[0].Mean(1, keepDim: true), forward: R);
        Add("mean_dims", x => x[0].Mean([1, 2]), forward: R);
        Add("max_all", x => x[0].Max(), forward: X);
        Add("max_all_ties", x => x[0].Max(), forward: X, noFd: Kink);
        AddMany("max_dim", x => Pair(x[0].Max(1)), forward: X);
        AddMany("max_dim_keep", x => Pair(x[0].Max(-1, keepDim: true)), forward: X);
        AddMany("min_dim", x => Pair(x[0].Min(0)), forward: X);
        Add("var_dim", x => x[0].Var(1), forward: R, backward: R);
        Add("var_dim_keep_c0", x => x[0].Var(-1, keepDim: true, correction: 0), forward: R, backward: R);
        Add("std_dim", x => x[0].Std(1), forward: R, backward: R);
        Add("argmax", x => x[0].ArgMax(1), forward: X);
        Add("argmax_keep", x => x[0].ArgMax(-1, keepDim: true), forward: X);
        AddMany("topk", x => Pair(x[0].TopK(3, -1)), forward: X);
        AddMany("topk_smallest", x => Pair(x[0].TopK(2, -1, largest: false)), forward: X);
        AddMany("topk_dim0", x => Pair(x[0].TopK(2, 0)), forward: X);
        Add("cumsum", x => x[0].CumSum(1), forward: R, backward: R);
        Add("cumsum_dim0", x => x[0].CumSum(0), forward: R, backward: R);
        Add("logsumexp", x => x[0].LogSumExp(1), forward: R, backward: R);
        Add("logsumexp_large_keep", x => x[0].LogSumExp(-1, keepDim: true), forward: R, backward: R);
        Add("norm", x => x[0].Norm(), forward: R, backward: R);

        // --- matrix products (transposed operands are views the GEMM must read without a copy)
        Add("matmul_2d", x => x[0].MatMul(x[1]), forward: R, backward: R);
        Add("matmul_2d", x => Tensor.MatMul(x[0], x[1]), forward: R, backward: R, variant: "static");
        Add("matmul_ta", x => x[0].T.MatMul(x[1]), forward: R, backward: R);
        Add("matmul_tb", x => x[0].MatMul(x[1].T), forward: R, backward: R);
        Add("matmul_tab", x => x[0].T.MatMul(x[1].T), forward: R, backward: R);
        Add("matmul_vec_mat", x => x[0].MatMul(x[1]), forward: R, backward: R);
        Add("matmul_mat_vec", x => x[0].MatMul(x[1]), forward: R, backward: R);
        Add("matmul_dot", x => x[0].MatMul(x[1]), forward: R, backward: R);
        Add("matmul_batched", x => x[0].MatMul(x[1]), forward: R, backward: R);
        Add("matmul_bcast_batch", x => x[0].MatMul(x[1]), forward: R, backward: R);
        Add("matmul_2d_batched", x => x[0].MatMul(x[1]), forward: R, backward: R);
        Add("matmul_batched_tb", x => x[0].MatMul(x[1].Transpose(-2, -1)), forward: R, backward: R);
        Add("matmul_noncontig", x => x[0].Slice(1, 0, 10, 2).MatMul(x[1]), forward: R, backward: R);
        Add("matmul_large", x => x[0].MatMul(x[1]), forward: Tolerance.LargeMatMul, backward: Tolerance.LargeMatMul);
        Add("linear", x => F.Linear(x[0], x[1], x[2]), forward: R, backward: R);
        Add("linear_nobias", x => F.Linear(x[0], x[1]), forward: R, backward: R);

        // --- softmax family and losses
        Add("softmax", x => x[0].Softmax(-1), forward: R, backward: R);
        Add("softmax", x => F.Softmax(x[0], -1), forward: R, backward: R, variant: "functional");
        Add("softmax_dim0", x => x[0].Softmax(0), forward: R, backward: R);
        Add("softmax_large", x => x[0].Softmax(-1), forward: R, backward: R);
        Add("log_softmax", x => x[0].LogSoftmax(-1), forward: R, backward: R);
        Add("log_softmax", x => F.LogSoftmax(x[0], -1), forward: R, backward: R, variant: "functional");
        Add("log_softmax_dim1", x => x[0].LogSoftmax(1), forward: R, backward: R);
        Add("log_softmax_large", x => x[0].LogSoftmax(-1), forward: R, backward: R);
        Add("masked_softmax", x => x[0].MaskedFill(x[1], float.NegativeInfinity).Softmax(-1), forward: R, backward: R);
        Add("cross_entropy", x => F.CrossEntropy(x[0], x[1]), forward: R, backward: R);
        Add("cross_entropy_3d", x => F.CrossEntropy(x[0], x[1]), forward: R, backward: R);
        Add("cross_entropy_3d", x => F.CrossEntropy(x[0].Reshape(-1, 5), x[1].Reshape(-1)), forward: R, backward: R,
            variant: "flattened");
        Add("cross_entropy_sum", x => F.CrossEntropy(x[0], x[1], reduction: Reduction.Sum), forward: R, backward: R);
        Add("cross_entropy_none", x => F.CrossEntropy(x[0], x[1], reduction: Reduction.None), forward: R, backward: R);
        Add("cross_entropy_smoothing", x => F.CrossEntropy(x[0], x[1], labelSmoothing: 0.1f), forward: R, backward: R);
        Add("cross_entropy_all_ignored", x => F.CrossEntropy(x[0], x[1]), forward: R, backward: R,
            noFd: "the loss is 0/0 = NaN by PyTorch's definition, so it has no finite differences");
        Add("cross_entropy_all_ignored_sum", x => F.CrossEntropy(x[0], x[1], reduction: Reduction.Sum),
            forward: R, backward: R);
        Add("cross_entropy_ignore_index", x => F.CrossEntropy(x[0], x[1], ignoreIndex: 2), forward: R, backward: R);
        Add("cross_entropy_large", x => F.CrossEntropy(x[0], x[1]), forward: R, backward: R);
        Add("nll_loss", x => F.NllLoss(x[0], x[1]), forward: R, backward: R);
        Add("mse_loss", x => F.MseLoss(x[0], x[1]), forward: R, backward: R);

        // --- normalisation, embedding, indexing
        Add("layer_norm", x => F.LayerNorm(x[0], [8], x[1], x[2]), forward: R, backward: R);
        Add("layer_norm_noaffine", x => F.LayerNorm(x[0], [8]), forward: R, backward: R);
        Add("layer_norm_2d_shape", x => F.LayerNorm(x[0], [3, 4], x[1], x[2]), forward: R, backward: R);
        Add("layer_norm_offset", x => F.LayerNorm(x[0], [16]),
            forward: Tolerance.LayerNormOffsetForward, backward: Tolerance.LayerNormOffsetBackward,
            noFd: "float32 forward noise (the mean of values near 100 is known to 4e-6, 4e-5 of their spread) " +
                  "is as large as a finite difference's signal here; layer_norm covers the gradient by finite differences");
        Add("rms_norm", x => F.RmsNorm(x[0], [8], x[1], 1e-6f), forward: R, backward: R);
        Add("rms_norm_noweight", x => F.RmsNorm(x[0], [8], null, 1e-6f), forward: R, backward: R);
        Add("embedding", x => F.Embedding(x[0], x[1]), forward: X);
        Add("one_hot", x => F.OneHot(x[0], 6), forward: X);
        Add("index_select", x => x[0].IndexSelect(0, x[1]), forward: X);
        Add("gather", x => x[0].Gather(1, x[1]), forward: X);

        // --- views: the gradient flows back to exactly the elements each output came from
        Add("reshape", x => x[0].Reshape(4, -1), forward: X);
        Add("reshape_noncontig", x => x[0].T.Reshape(12), forward: X);
        Add("view", x => x[0].View(3, 4), forward: X);
        Add("transpose", x => x[0].Transpose(0, 2), forward: X);
        Add("transpose_exp", x => x[0].Transpose(1, 2).Exp());
        Add("permute", x => x[0].Permute(2, 0, 1), forward: X);
        Add("t", x => x[0].T, forward: X);
        Add("slice_step", x => x[0].Slice(1, 1, 8, 3), forward: X);
        Add("slice_negative", x => x[0].Slice(0, -4, -1), forward: X);
        Add("narrow", x => x[0].Narrow(1, 2, 3), forward: X);
        Add("select", x => x[0].Select(1, 2), forward: X);
        Add("select_negative", x => x[0].Select(0, -1), forward: X);
        Add("squeeze_unsqueeze", x => x[0].Squeeze(1).Unsqueeze(0), forward: X);
        Add("squeeze_all", x => x[0].Squeeze(), forward: X);
        Add("expand", x => x[0].Expand(2, 3, 4), forward: X);
        Add("flatten", x => x[0].Flatten(1), forward: X);
        Add("contiguous", x => x[0].T.Contiguous(), forward: X);
        Add("cat_dim0", x => Tensor.Cat([x[0], x[1], x[2]], 0), forward: X);
        Add("cat_dim1", x => Tensor.Cat([x[0], x[1]], 1), forward: X);
        Add("cat_negative_dim", x => Tensor.Cat([x[0], x[1]], -1), forward: X);
        Add("stack", x => Tensor.Stack([x[0], x[1], x[2]], 1), forward: X);
        AddMany("split", x => x[0].Split(3, 0), forward: X);
        AddMany("chunk", x => x[0].Chunk(3, 1), forward: X);
        Add("views_chain", x => (x[0].T.Slice(0, 1, 5).Reshape(2, 2, 4) * 2f).Permute(2, 0, 1), forward: X);

        // --- attention: by hand from engine ops, and the fused function
        Add("attention_causal", x => Attention(x[0], x[1], x[2], causal: true), forward: R, backward: R);
        Add("attention_causal", x => F.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true),
            forward: R, backward: R, variant: "sdpa");
        Add("attention", x => Attention(x[0], x[1], x[2], causal: false), forward: R, backward: R);
        Add("attention", x => F.ScaledDotProductAttention(x[0], x[1], x[2]), forward: R, backward: R, variant: "sdpa");

        // --- more ops the engine offers (beyond ENGINE_API.md)
        Add("argmin", x => x[0].ArgMin(1), forward: X);
        Add("min_all", x => x[0].Min(), forward: X);
        Add("sin", x => x[0].Sin());
        Add("cos", x => x[0].Cos());
        Add("reciprocal", x => x[0].Reciprocal());
        Add("tril", x => x[0].Tril(), forward: X);
        Add("triu_diagonal", x => x[0].Triu(1), forward: X);
        Add("tril_negative_diagonal", x => x[0].Tril(-1), forward: X);
        Add("clone", x => x[0].Clone() * 2f, forward: X);
        Add("where_scalar", x => Tensor.Where(x[0], x[1], 0.5f), forward: X);
        Add("arange_float", _ => Tensor.Arange(0.5f, 3f, 0.25f));
        Add("linspace", _ => Tensor.Linspace(-1f, 1f, 7));
        Add("linspace_tenths", _ => Tensor.Linspace(0f, 1f, 11));
        Add("eye", _ => Tensor.Eye(3), forward: X);
        Add("eye_rect", _ => Tensor.Eye(2, 4), forward: X);

        // --- special values (forward only): NaN propagates, infinities follow IEEE
        Add("nan_maximum", x => Tensor.Maximum(x[0], x[1]), forward: X);
        Add("nan_max_all", x => x[0].Max(), forward: X);
        AddMany("nan_max_dim", x => Pair(x[0].Max(1)), forward: X);
        Add("nan_relu", x => x[0].Relu(), forward: X);
        Add("nan_clamp", x => x[0].Clamp(-1f, 1f), forward: X);
        Add("nan_sum", x => x[0].Sum(1), forward: X);
        Add("nan_softmax", x => x[0].Softmax(-1), forward: R);
        Add("inf_exp_log", x => Tensor.Stack([x[0].Exp(), x[0].Abs().Log()]));
        Add("softmax_all_masked_row", x => x[0].Softmax(-1), forward: R);
        Add("tril_inf", x => x[0].Tril(), forward: X);
        Add("triu_inf", x => x[0].Triu(1), forward: X);
        Add("argmax_ties", x => x[0].ArgMax(1), forward: X);
        Add("argmin_ties", x => x[0].ArgMin(1), forward: X);

        // --- PyTorch's shape rules in less common spellings
        Add("add_scalar_tensor", x => x[0] + x[1]);
        Add("matmul_vec_batched", x => x[0].MatMul(x[1]), forward: R, backward: R);
        Add("matmul_batched_vec", x => x[0].MatMul(x[1]), forward: R, backward: R);
        Add("sum_dims_negative", x => x[0].Sum([-1, 0]), forward: R);
        Add("squeeze_noop", x => x[0].Squeeze(1), forward: X);
        Add("unsqueeze_negative", x => x[0].Unsqueeze(-1), forward: X);
        Add("flatten_range", x => x[0].Flatten(0, 1), forward: X);
        Add("permute_negative", x => x[0].Permute(-1, 0, 1), forward: X);
        Add("stack_negative_dim", x => Tensor.Stack([x[0], x[1]], -1), forward: X);
        AddMany("chunk_uneven", x => x[0].Chunk(3, 0), forward: X);
        Add("index_select_dim1", x => x[0].IndexSelect(1, x[1]), forward: X);
        Add("gather_dim0", x => x[0].Gather(0, x[1]), forward: X);
        Add("one_hot_inferred", x => F.OneHot(x[0]), forward: X);
        Add("int_eq", x => x[0].Eq(x[1]), forward: X);
        Add("int_views", x => Tensor.Cat([x[0].T, x[1].T.Slice(0, 1, 3)], 0).Reshape(-1), forward: X);
        Add("layer_norm_eps", x => F.LayerNorm(x[0], [6], x[1], x[2], eps: 0.1f), forward: R, backward: R);
        Add("cross_entropy_smoothing_sum", x => F.CrossEntropy(x[0], x[1], reduction: Reduction.Sum, labelSmoothing: 0.2f),
            forward: R, backward: R);
        Add("cross_entropy_smoothing_none", x => F.CrossEntropy(x[0], x[1], reduction: Reduction.None, labelSmoothing: 0.2f),
            forward: R, backward: R);
        Add("nll_loss_sum", x => F.NllLoss(x[0], x[1], reduction: Reduction.Sum), forward: R, backward: R);
        Add("mse_loss_sum", x => F.MseLoss(x[0], x[1], Reduction.Sum), forward: R, backward: R);
        Add("mse_loss_none", x => F.MseLoss(x[0], x[1], Reduction.None));

        Add("attention_causal_rect", x => F.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true),
            forward: R, backward: R, variant: "sdpa");
        Add("attention_mask", x => F.ScaledDotProductAttention(x[0], x[1], x[2], mask: x[3]),
            forward: R, backward: R, variant: "sdpa");

        // --- strided inputs: transposed, sliced and expanded (stride-0) operands reach the kernels as views
        Add("overlapping_slices", x => x[0].Slice(1, 0, 4) * x[0].Slice(1, 2, 6));
        Add("matmul_expanded_batch", x => x[0].Expand(3, 4, 5).MatMul(x[1]), forward: R, backward: R);
        Add("matmul_stride0", x => x[0].MatMul(x[1].Expand(5, 3)), forward: R, backward: R);
        Add("exp_expanded", x => x[0].Expand(3, 4).Exp(), backward: R);
        Add("sum_transposed", x => x[0].T.Sum(0), forward: R);
        AddMany("max_transposed", x => Pair(x[0].T.Max(1)), forward: X);
        Add("cumsum_transposed", x => x[0].T.CumSum(1), forward: R, backward: R);
        Add("softmax_transposed", x => x[0].T.Softmax(-1), forward: R, backward: R);
        Add("log_softmax_sliced", x => x[0].Slice(1, 1, 6, 2).LogSoftmax(-1), forward: R, backward: R);
        Add("layer_norm_transposed", x => F.LayerNorm(x[0].Transpose(0, 1), [4], x[1], x[2]), forward: R, backward: R);
        Add("cross_entropy_sliced", x => F.CrossEntropy(x[0].Slice(1, 0, 5), x[1]), forward: R, backward: R);
        Add("cat_transposed", x => Tensor.Cat([x[0].T, x[1]], 0), forward: X);
        Add("embedding_transposed_indices", x => F.Embedding(x[0].T, x[1]), forward: X);

        // --- autograd semantics
        Add("fanout", x => x[0] * x[0] + x[0].Exp());
        Add("shared_subexpression", x => { var y = x[0].Tanh(); return y * y + y; });
        Add("detach", x => x[0] * x[0].Detach(), noFd: Detached);
        Add("no_grad_constant", x =>
        {
            Tensor z;
            using (Autograd.NoGrad()) z = x[0] * 2f;
            return x[0] * 3f + z;
        }, noFd: Detached);
        return cases;
    }

    static Tensor[] Pair((Tensor Values, Tensor Indices) r) => [r.Values, r.Indices];

    /// <summary>softmax(q kᵀ / √d, masked) v, written from engine ops (the fixture's `attention`).</summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, bool causal)
    {
        var scores = q.MatMul(k.Transpose(-2, -1)) * (1f / MathF.Sqrt(q.Size(-1)));   // (B, H, Tq, Tk)
        if (causal) scores = scores.MaskedFill(CausalMask(q.Size(-2)).To(scores.Device), float.NegativeInfinity);
        return scores.Softmax(-1).MatMul(v);
    }

    /// <summary>[t, t] with 1 above the diagonal: the future positions a query may not attend to.</summary>
    public static Tensor CausalMask(int t)
    {
        var mask = new float[t * t];
        for (var i = 0; i < t; i++)
            for (var j = i + 1; j < t; j++)
                mask[i * t + j] = 1;
        return Tensor.FromArray(mask, t, t);
    }
}
