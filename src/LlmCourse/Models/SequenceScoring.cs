using LlmCourse.Tensors;
using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Models;

/// <summary>
/// Scores a long token sequence with a model that sees a window of T tokens at a time: the
/// sequence is cut into consecutive windows, x = tokens[s, s+T), y = tokens[s+1, s+T+1), so every
/// token after the first is predicted exactly once, with as much context as its window gives it
/// (on average T/2, like nanoGPT's validation loss). <c>warmup</c> extra tokens before each window
/// are fed as context only, for models with a fixed context (the MLP) to see all of it.
/// </summary>
public static class SequenceScoring
{
    public static (double Nats, int Predictions) Windows(INeuralLanguageModel model, int[] tokens, int windowLength,
        int warmup = 0, int batchSize = 32)
    {
        var module = model.Module;
        var device = module.Parameters().FirstOrDefault()?.Device ?? Device.Cpu;   // the windows go where the model is
        using var inference = module.Inference();
        // (start, count, context) of every window; windows of the same shape run as one batch.
        var windows = new List<(int Start, int Count, int Context)>();
        for (var s = 0; s < tokens.Length - 1; s += windowLength)
            windows.Add((s, Math.Min(windowLength, tokens.Length - 1 - s), Math.Min(warmup, s)));
        double nats = 0;
        foreach (var group in windows.GroupBy(w => (w.Count, w.Context)))
        foreach (var batch in group.Chunk(batchSize))
        {
            var (count, context) = group.Key;
            var length = context + count;
            var x = new int[batch.Length * length];
            var y = new int[batch.Length * length];
            for (var b = 0; b < batch.Length; b++)
            {
                Array.Copy(tokens, batch[b].Start - context, x, b * length, length);
                Array.Copy(tokens, batch[b].Start - context + 1, y, b * length, length);
            }
            using var scope = TensorScope.Begin();
            var logits = model.Logits(Tensor.FromArray(x, [batch.Length, length], device));   // (B, T, V)
            nats += SumLosses(logits, y, batch.Length, length, context);
        }
        return (nats, Math.Max(0, tokens.Length - 1));
    }

    static double SumLosses(Tensor logits, int[] targets, int batch, int length, int context)
    {
        var v = logits.Size(-1);
        var losses = F.CrossEntropy(logits.View(batch * length, v), Tensor.FromArray(targets, [batch * length], logits.Device),
            reduction: Reduction.None).ToArray();   // (B·T) nats
        double sum = 0;
        for (var b = 0; b < batch; b++)
            for (var t = context; t < length; t++)
                sum += losses[b * length + t];
        return sum;
    }
}
