using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Tensors.Tests.Regression;

/// <summary>
/// A small GPT written with engine ops only, the same architecture as gpt_forward in
/// tests/parity/make_engine_fixtures.py (nanoGPT's model.py without dropout): token + position
/// embedding, pre-LN blocks of causal multi-head attention and a GELU MLP, a final layer norm and an
/// LM head tied to the token embedding. Parameter names are nanoGPT's.
/// Letters: B batch, T time, C channels, H heads, D = C / H, V vocabulary.
/// </summary>
public sealed class TinyGpt(IReadOnlyDictionary<string, Tensor> parameters, int layers, int heads)
{
    public IReadOnlyDictionary<string, Tensor> Parameters { get; } = parameters;

    Tensor P(string name) => Parameters[name];

    /// <param name="fusedAttention">Use F.ScaledDotProductAttention instead of the attention written out here.</param>
    public (Tensor Logits, Tensor Loss) Forward(Tensor idx, Tensor targets, bool fusedAttention = false)
    {
        int B = idx.Size(0), T = idx.Size(1), C = P("wte.weight").Size(1), H = heads, D = C / H;
        var x = F.Embedding(idx, P("wte.weight")) + P("wpe.weight").Slice(0, 0, T);         // (B, T, C)
        var causal = Parity.OpCases.CausalMask(T).To(x.Device);      // the mask lives with the scores
        for (var l = 0; l < layers; l++)
        {
            var h = $"h.{l}.";
            var a = F.LayerNorm(x, [C], P(h + "ln_1.weight"), P(h + "ln_1.bias"));
            var qkv = F.Linear(a, P(h + "attn.c_attn.weight"), P(h + "attn.c_attn.bias"));   // (B, T, 3C)
            var parts = qkv.Split(C, 2);
            var (q, k, v) = (Heads(parts[0]), Heads(parts[1]), Heads(parts[2]));             // (B, H, T, D)
            Tensor y;
            if (fusedAttention)
                y = F.ScaledDotProductAttention(q, k, v, isCausal: true);
            else
            {
                var att = q.MatMul(k.Transpose(-2, -1)) * (1f / MathF.Sqrt(D));               // (B, H, T, T)
                att = att.MaskedFill(causal, float.NegativeInfinity).Softmax(-1);
                y = att.MatMul(v);                                                             // (B, H, T, D)
            }
            y = y.Transpose(1, 2).Reshape(B, T, C);                                            // (B, T, C)
            x = x + F.Linear(y, P(h + "attn.c_proj.weight"), P(h + "attn.c_proj.bias"));
            var m = F.LayerNorm(x, [C], P(h + "ln_2.weight"), P(h + "ln_2.bias"));
            m = F.Gelu(F.Linear(m, P(h + "mlp.c_fc.weight"), P(h + "mlp.c_fc.bias")));        // (B, T, 4C)
            x = x + F.Linear(m, P(h + "mlp.c_proj.weight"), P(h + "mlp.c_proj.bias"));
        }
        x = F.LayerNorm(x, [C], P("ln_f.weight"), P("ln_f.bias"));
        var logits = x.MatMul(P("wte.weight").T);                                             // (B, T, V)
        var loss = F.CrossEntropy(logits.Reshape(B * T, -1), targets.Reshape(B * T));
        return (logits, loss);

        Tensor Heads(Tensor t) => t.Reshape(B, T, H, D).Transpose(1, 2);
    }
}
