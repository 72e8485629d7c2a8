using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Training;

/// <summary>Where training is after a step; <see cref="ValidationLoss"/> is set on the steps that evaluated.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record TrainingProgress(
    int Step,
    int TotalSteps,
    double Loss,
    double LearningRate,
    double GradientNorm,
    double TokensPerSecond,
    TimeSpan Elapsed,
    double? TrainLoss = null,
    double? ValidationLoss = null,
    double? Mfu = null,
    StepTimes? Times = null)
{
    public double Perplexity => Math.Exp(Loss);
    public double? ValidationPerplexity => ValidationLoss is { } v ? Math.Exp(v) : null;
    public bool Evaluated => ValidationLoss is not null;

    public override string ToString() =>
        FormattableString.Invariant($"step {Step}/{TotalSteps}: loss {Loss:F4}, lr {LearningRate:E2}, {TokensPerSecond:N0} tokens/s") +
        (Mfu is { } m ? FormattableString.Invariant($", MFU {m:P1}") : "") +
        (ValidationLoss is { } v ? FormattableString.Invariant($", train {TrainLoss:F4}, val {v:F4} (perplexity {Math.Exp(v):F2})") : "");
}

/// <summary>
/// One optimisation step; <see cref="Mfu"/> when the options gave FLOPs per token and a peak. <see cref="Skipped"/>: a
/// float16 step whose gradients overflowed, so no update was made (its gradient norm is infinite).
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record StepRecord(int Step, double Loss, double LearningRate, double GradientNorm, double TokensPerSecond,
    double? Mfu = null, StepTimes? Times = null, bool Skipped = false);

/// <summary>
/// Where one step's time went, in seconds, measured with a clock around each phase: drawing the batches,
/// the forward passes (until the loss is read), the backward passes, and clipping plus the optimizer update.
/// On the CPU every op runs when it is called, so the clock measures the phase itself.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record StepTimes(double Data, double Forward, double Backward, double Optimizer)
{
    public double Total => Data + Forward + Backward + Optimizer;
}

/// <summary>One evaluation on the fixed train and validation batches.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record EvalRecord(int Step, double TrainLoss, double ValidationLoss)
{
    public double ValidationPerplexity => Math.Exp(ValidationLoss);
}

/// <summary>Everything a run measured, step by step; it survives a checkpoint and resume.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed class TrainingHistory
{
    public List<StepRecord> Steps { get; init; } = [];
    public List<EvalRecord> Evaluations { get; init; } = [];
    public TimeSpan Elapsed { get; set; }

    public double[] Losses => Steps.Select(s => s.Loss).ToArray();
    public EvalRecord? LastEvaluation => Evaluations.Count > 0 ? Evaluations[^1] : null;

    /// <summary>The run in one line, what a notebook cell ending with a history shows.</summary>
    public override string ToString()
    {
        if (Steps.Count == 0) return "TrainingHistory: no steps";
        var text = FormattableString.Invariant(
            $"TrainingHistory: {Steps.Count:N0} steps ({Steps[0].Step}-{Steps[^1].Step}), loss {Steps[0].Loss:F4} → {Steps[^1].Loss:F4}, {Elapsed.TotalSeconds:F1} s");
        if (Steps.Count(s => s.Skipped) is > 0 and var skipped)
            text += $" ({skipped} skipped: float16 gradients overflowed)";
        return LastEvaluation is { } last
            ? text + FormattableString.Invariant($"; {Evaluations.Count} evaluations, last at step {last.Step}: train {last.TrainLoss:F4}, val {last.ValidationLoss:F4} (perplexity {last.ValidationPerplexity:F2})")
            : text;
    }
}
