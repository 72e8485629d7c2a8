namespace LlmCourse.Tensors;

/// <summary>
/// Cross-entropy of logits [..., C] against Int32 class targets [...] (class dim last, the language
/// model layout [B, T, V] with targets [B, T]). Targets equal to <c>ignoreIndex</c> contribute
/// nothing and are not counted by the mean (SFT masks prompt tokens this way). The per-row loss is a
/// fused primitive (log-sum-exp once per row; backward writes softmax minus one-hot in one pass);
/// the reduction is ordinary tensor maths. Reference composite: <see cref="Composite.CrossEntropy"/>.
/// </summary>
public static partial class Functional
{
    /// <remarks>
    /// A target that is neither a class nor <paramref name="ignoreIndex"/> is a <see cref="TensorShapeException"/>
    /// ("target 70 at row 1 is out of bounds for 65 classes"). On the CPU it is thrown here; on a GPU the check
    /// is a kernel queued with the loss and the error is thrown at the next read-back (<c>loss.Item()</c>,
    /// ToArray, Cuda.Synchronize), as PyTorch's device-side asserts are. The mean divides by the count of
    /// counted targets on the device, so computing the loss never waits for the GPU.
    /// </remarks>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, int ignoreIndex = -100,
        Reduction reduction = Reduction.Mean, float labelSmoothing = 0f)
    {
        var (rows, classes, flatTargets) = CheckClassTargets(logits, targets, "CrossEntropy");
        if (labelSmoothing < 0f || labelSmoothing > 1f)
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "CrossEntropy: label smoothing must be in [0, 1]");
        if (rows > 0)
            flatTargets.Backend.CheckIndices(flatTargets, classes, ignoreIndex,
                $"CrossEntropy: target {{0}} at row {{1}} is out of bounds for {classes} classes (ignoreIndex is {ignoreIndex})");
        var x = logits.FloatInput("CrossEntropy").ReshapeData([rows, classes]).ContiguousData();
        var losses = Tensor.Allocate([rows], DType.Float32, logits.Device);
        var logSumExp = Tensor.Allocate([rows], DType.Float32, logits.Device);
        logits.Backend.CrossEntropy(x, flatTargets, ignoreIndex, labelSmoothing, losses, logSumExp);
        if (Autograd.DetectNonFinite) NonFinite.Check("CrossEntropy", "forward", losses, x);
        if (Autograd.Needs(logits))
        {
            // Under autocast, logits that are a 16-bit result (an output layer's product) get a 16-bit gradient, as in
            // PyTorch; the loss itself is float32 either way. Decided here: backward runs outside the scope.
            var precision = Autocast.CurrentPrecision;
            var gradPrecision = precision != DType.Float32 && logits.Storage.ValuesRoundedTo == precision ? precision : DType.Float32;
            losses.SetGradFn(new CrossEntropyBackward(logits, x, flatTargets, logSumExp, ignoreIndex, labelSmoothing, gradPrecision));
        }
        return ReduceIgnoring(losses, flatTargets, ignoreIndex, reduction, targets.shape);
    }

    sealed class CrossEntropyBackward(Tensor logits, Tensor rows, Tensor targets, Tensor logSumExp, int ignoreIndex, float labelSmoothing,
        DType precision) : Node("CrossEntropyBackward", logits)
    {
        Tensor? rows = rows, targets = targets, logSumExp = logSumExp;
        readonly int[] logitsShape = logits.shape;

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var x = Saved(rows);
            var g = x.NewEmpty(x.shape);
            if (precision == DType.Float32)
                gy.Backend.CrossEntropyBackward(x, Saved(targets), Saved(logSumExp), gy.ContiguousData(), ignoreIndex, labelSmoothing, g);
            else
            {
                gy.Backend.CrossEntropyBackwardRounded(x, Saved(targets), Saved(logSumExp), gy.ContiguousData(), ignoreIndex, labelSmoothing,
                    g, precision);
                g.Storage.ValuesRoundedTo = precision;
            }
            gx[0] = g.Reshape(logitsShape);
        }

        protected override void ReleaseSaved() => rows = targets = logSumExp = null;
    }

    /// <summary>
    /// Negative log-likelihood of log-probabilities [..., C] at Int32 targets [...], with ignoreIndex
    /// like <see cref="CrossEntropy"/> (a composite: gather, mask, reduce).
    /// </summary>
    public static Tensor NllLoss(Tensor logProbs, Tensor targets, int ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        var (rows, classes, flatTargets) = CheckClassTargets(logProbs, targets, "NllLoss");
        var ids = flatTargets.ToInt32Array();
        var safe = new int[rows];
        for (var i = 0; i < rows; i++) safe[i] = ids[i] == ignoreIndex ? 0 : ids[i];
        var picked = logProbs.Reshape(rows, classes).Gather(1, Tensor.FromArray(safe, [rows, 1], logProbs.Device)).Reshape(rows);
        var keep = flatTargets.Ne(ignoreIndex);
        return ReduceIgnoring(-picked * keep, flatTargets, ignoreIndex, reduction, targets.shape);
    }

    static (int Rows, int Classes, Tensor Targets) CheckClassTargets(Tensor logits, Tensor targets, string op)
    {
        Tensor.SameDevice(op, logits, targets);
        if (targets.DType != DType.Int32)
            throw new TensorShapeException($"{op}: targets must be int32 class indices, got {targets.DType} (shape {Shapes.Format(targets.shape)})");
        if (logits.Rank == 0 || !Shapes.Equal(logits.shape[..^1], targets.shape))
            throw new TensorShapeException(
                $"{op}: logits {Shapes.Format(logits.shape)} and targets {Shapes.Format(targets.shape)} do not match: targets must have the logits' shape without the class (last) dim");
        var classes = logits.shape[^1];
        var rows = (int)targets.Count;
        var flat = targets.Reshape(rows).ContiguousData();
        if (rows > 0 && classes == 0) throw new TensorShapeException($"{op}: logits {Shapes.Format(logits.shape)} have no classes");
        return (rows, classes, flat);
    }

    /// <summary>Mean over the non-ignored targets (NaN when all are ignored, like PyTorch), sum, or per-target values.</summary>
    static Tensor ReduceIgnoring(Tensor losses, Tensor flatTargets, int ignoreIndex, Reduction reduction, int[] targetShape)
    {
        switch (reduction)
        {
            case Reduction.None: return losses.Reshape(targetShape);
            case Reduction.Sum: return losses.Sum();
            default:
                // The count stays a tensor: reading it back (Item) would make every GPU step wait here.
                var counted = flatTargets.Ne(ignoreIndex).Sum();
                return losses.Sum() / counted;
        }
    }
}
