using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;

namespace LlmCourse.Alignment;

/// <summary>
/// LoRA on a GPT: every block's attention and MLP projections (<c>attn.c_attn</c>, <c>attn.c_proj</c>,
/// <c>mlp.c_fc</c>, <c>mlp.c_proj</c>) get a <see cref="LoraAdapter"/> of rank r, and every pretrained
/// weight is frozen, so only the adapters train; the embedding (and the tied output layer) stays
/// as it was. The adapters live in this module, not in the GPT, so the GPT's state dict is
/// unchanged and its checkpoint format still applies after <see cref="Merge"/>.
/// <code>var lora = Lora.Apply(model.Gpt, rank: 8, alpha: 16); … train lora.Parameters() …; lora.Merge();</code>
/// </summary>
public sealed class Lora : Module
{
    /// <summary>The projections adapted, by the end of their names in the GPT.</summary>
    public static IReadOnlyList<string> DefaultTargets { get; } = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"];

    readonly Gpt gpt;
    readonly List<LoraAdapter> adapters = [];
    bool merged;

    Lora(Gpt gpt) => this.gpt = gpt;

    /// <summary>Adds adapters to the targeted layers and freezes every parameter of the GPT.</summary>
    public static Lora Apply(Gpt gpt, int rank = 8, float alpha = 16, IReadOnlyList<string>? targets = null, ulong seed = 0)
    {
        targets ??= DefaultTargets;
        var lora = new Lora(gpt) { Rank = rank, Alpha = alpha };
        var generator = new Generator(seed);
        var layers = gpt.NamedModules().Where(m => m.Module is Linear && targets.Any(t => m.Name.EndsWith(t, StringComparison.Ordinal))).ToArray();
        if (layers.Length == 0) throw new ArgumentException($"Lora.Apply: no linear layer of {gpt.Name} ends with {string.Join(" or ", targets)}.", nameof(targets));
        foreach (var (name, module) in layers)
        {
            var adapter = new LoraAdapter((Linear)module, rank, alpha, generator);
            lora.adapters.Add(lora.Register(name.Replace('.', '_'), adapter));
        }
        foreach (var p in gpt.Parameters()) p.RequiresGrad = false;
        return lora;
    }

    public int Rank { get; private init; }
    public float Alpha { get; private init; }
    public IReadOnlyList<LoraAdapter> Adapters => adapters;

    /// <summary>Folds every adapter into its layer's weight and unfreezes the GPT: it then computes the same outputs with no adapter.</summary>
    public void Merge()
    {
        if (merged) throw new InvalidOperationException("Lora.Merge: already merged.");
        foreach (var adapter in adapters) adapter.Merge();
        foreach (var p in gpt.Parameters()) p.RequiresGrad = true;
        merged = true;
    }

    /// <summary>Removes the adapters without merging them (the GPT is as before <see cref="Apply"/>) and unfreezes it.</summary>
    public void Remove()
    {
        foreach (var adapter in adapters) adapter.Remove();
        foreach (var p in gpt.Parameters()) p.RequiresGrad = true;
        merged = true;
    }
}
