using System.Globalization;
using LlmCourse.Tensors;

namespace LlmCourse.Models;

/// <summary>
/// A trained <see cref="Gpt"/> as a nanoGPT checkpoint, so it can leave .NET: the state dict of
/// nanoGPT's <c>model.py</c> (Karpathy 2022), whose module names ours already follow, under its
/// <c>transformer.</c> prefix, plus <c>lm_head.weight</c>, which nanoGPT ties to
/// <c>transformer.wte.weight</c> and stores under both names. Linear weights are (out, in) on both
/// sides, so nothing is transposed (GPT-2's original TensorFlow checkpoints, by contrast, store
/// Conv1D weights as (in, out)). Written as safetensors with nanoGPT's config in the metadata.
/// <c>tests/parity/check_nanogpt_export.py</c> loads such a file into a nanoGPT-shaped PyTorch model.
/// </summary>
public static class NanoGptExport
{
    /// <summary>nanoGPT's name for each tensor: our state dict under <c>transformer.</c>, and the tied <c>lm_head.weight</c>.</summary>
    public static Dictionary<string, Tensor> NanoGptStateDict(this Gpt gpt)
    {
        ArgumentNullException.ThrowIfNull(gpt);
        var state = gpt.StateDict().ToDictionary(p => "transformer." + p.Key, p => p.Value.To(DType.Float32));
        // Tied weights: the output layer is the token embedding (Gpt.Forward), as in nanoGPT.
        state["lm_head.weight"] = state["transformer.wte.weight"];
        return state;
    }

    /// <summary>nanoGPT's GPTConfig fields, as strings for the safetensors metadata.</summary>
    public static Dictionary<string, string> NanoGptConfig(this Gpt gpt)
    {
        ArgumentNullException.ThrowIfNull(gpt);
        var c = gpt.Config;
        string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
        return new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["architecture"] = "nanoGPT",
            ["block_size"] = Number(c.BlockSize),
            ["vocab_size"] = Number(c.VocabSize),
            ["n_layer"] = Number(c.Layers),
            ["n_head"] = Number(c.Heads),
            ["n_embd"] = Number(c.Embedding),
            ["dropout"] = Number(c.Dropout),
            ["bias"] = c.Bias ? "True" : "False",
            ["name"] = gpt.Name,
        };
    }

    /// <summary>
    /// Writes the model as a nanoGPT state dict in safetensors, atomically. In PyTorch:
    /// <c>model = GPT(GPTConfig(**config)); model.load_state_dict(state)</c> (see the README).
    /// </summary>
    public static void ExportNanoGpt(this Gpt gpt, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"Gpt.ExportNanoGpt: '{path}': the file is safetensors; give it the .safetensors extension.", nameof(path));
        Safetensors.Save(path, gpt.NanoGptStateDict(), gpt.NanoGptConfig());
    }
}
