namespace LlmCourse.Tensors;

/// <summary>Drawing token ids from probabilities (text generation). Runs on the host with a seeded generator.</summary>
public static partial class Functional
{
    /// <summary>
    /// <paramref name="numSamples"/> Int32 indices per row of <paramref name="probs"/> ([C] or [N, C];
    /// non-negative weights, not necessarily normalised), drawn with probability proportional to the
    /// weights; without replacement unless <paramref name="replacement"/>, like torch.multinomial.
    /// </summary>
    public static Tensor Multinomial(Tensor probs, int numSamples, Generator? generator = null, bool replacement = false)
    {
        if (probs.Rank is < 1 or > 2)
            throw new TensorShapeException($"Multinomial: probs must be 1-D or 2-D, got shape {Shapes.Format(probs.shape)}");
        if (numSamples <= 0) throw new TensorShapeException($"Multinomial: number of samples must be positive, got {numSamples}");
        var g = generator ?? Generator.Default;
        var classes = probs.shape[^1];
        var rows = probs.Rank == 1 ? 1 : probs.shape[0];
        var weights = probs.ToArray();
        var result = new int[rows * numSamples];
        var row = new double[classes];
        for (var r = 0; r < rows; r++)
        {
            var positive = 0;
            for (var c = 0; c < classes; c++)
            {
                var w = weights[r * classes + c];
                if (!float.IsFinite(w) || w < 0f)
                    throw new TensorShapeException($"Multinomial: probability tensor contains inf, NaN or a negative value ({w} at row {r}, class {c})");
                row[c] = w;
                if (w > 0f) positive++;
            }
            if (positive == 0) throw new TensorShapeException($"Multinomial: row {r} has no positive weight");
            if (!replacement && numSamples > positive)
                throw new TensorShapeException($"Multinomial: cannot draw {numSamples} samples without replacement from {positive} non-zero weights (row {r})");
            for (var s = 0; s < numSamples; s++)
            {
                var total = 0.0;
                for (var c = 0; c < classes; c++) total += row[c];
                var u = g.NextDouble() * total;
                var pick = -1;
                for (var c = 0; c < classes; c++)
                {
                    if (row[c] <= 0) continue;
                    pick = c; // the last positive class absorbs rounding at the top end
                    u -= row[c];
                    if (u < 0) break;
                }
                result[r * numSamples + s] = pick;
                if (!replacement) row[pick] = 0;
            }
        }
        return Tensor.FromArray(result, probs.Rank == 1 ? [numSamples] : [rows, numSamples], probs.Device);
    }
}
