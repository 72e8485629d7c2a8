namespace LlmCourse.Tensors.NN;

/// <summary>
/// LoRA (Hu et al. 2021, "Low-Rank Adaptation of Large Language Models"): a frozen linear layer
/// y = x Wᵀ + b learns only a low-rank change ΔW = (α/r)·B·A, with A [r, in] and B [out, r]:
/// <code>y = x Wᵀ + b + (α/r)·(x Aᵀ) Bᵀ</code>
/// so a layer of in·out weights trains r·(in + out) numbers. A starts as PyTorch's Linear does
/// (Kaiming-uniform, as in the PEFT library) and B at zero, so an adapted model starts out computing
/// exactly what the frozen one did, and the first gradient reaches B (∂L/∂B = (α/r)·gᵀ·(x Aᵀ) ≠ 0)
/// while A's (∝ B) is zero until B moves. Dividing by r keeps the update's size roughly independent
/// of the rank, so α need not be retuned when r changes. <see cref="Merge"/> folds ΔW into W, after
/// which inference costs nothing extra.
/// </summary>
/// <remarks>Letters: r the rank, in and out the layer's sizes.</remarks>
public sealed class LoraAdapter : Module
{
    public LoraAdapter(Linear layer, int rank, float alpha, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (rank < 1 || rank > Math.Min(layer.InFeatures, layer.OutFeatures))
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"LoraAdapter: the rank must be between 1 and min(in, out) = {Math.Min(layer.InFeatures, layer.OutFeatures)} for a {layer.InFeatures} → {layer.OutFeatures} layer.");
        if (layer.Adapter is not null) throw new InvalidOperationException("LoraAdapter: this layer already has an adapter; merge or remove it first.");
        Layer = layer;
        Rank = rank;
        Alpha = alpha;
        A = RegisterParameter("A", Tensor.Empty(rank, layer.InFeatures));     // (r, in)
        Init.KaimingUniform(A, MathF.Sqrt(5f), generator: generator);
        B = RegisterParameter("B", Tensor.Zeros(layer.OutFeatures, rank));    // (out, r)
        layer.Adapter = this;
    }

    public Linear Layer { get; }
    public int Rank { get; }
    public float Alpha { get; }
    public Tensor A { get; }
    public Tensor B { get; }

    /// <summary>α / r.</summary>
    public float Scale => Alpha / Rank;

    /// <summary>The adapter's share of the layer's output: (α/r)·(x Aᵀ) Bᵀ, for x [..., in].</summary>
    public Tensor Forward(Tensor input) => Functional.Linear(Functional.Linear(input, A), B) * Scale;   // [..., r] then [..., out]

    /// <summary>ΔW = (α/r)·B·A, [out, in]: what <see cref="Merge"/> adds to the layer's weight.</summary>
    public Tensor Delta() => B.MatMul(A) * Scale;

    /// <summary>W ← W + ΔW, and the adapter leaves the layer: it now computes the same outputs alone.</summary>
    public void Merge()
    {
        if (Layer.Adapter != this) throw new InvalidOperationException("LoraAdapter.Merge: this adapter is no longer attached (already merged or removed).");
        using (Autograd.NoGrad())
        {
            var merged = Layer.Weight + Delta();
            Layer.Weight.CopyFrom(merged, "LoraAdapter.Merge");
        }
        Layer.Adapter = null;
    }

    /// <summary>Detaches the adapter without changing the layer's weight.</summary>
    public void Remove()
    {
        if (Layer.Adapter == this) Layer.Adapter = null;
    }

    protected override string ExtraRepr() => $"rank={Rank}, alpha={Alpha}, in_features={Layer.InFeatures}, out_features={Layer.OutFeatures}";
}
