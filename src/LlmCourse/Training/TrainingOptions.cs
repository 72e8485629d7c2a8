using LlmCourse.Tensors;
using LlmCourse.Tensors.Optim;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Training;

/// <summary>
/// How to train. The defaults are nanoGPT's shakespeare_char run on a CPU (its README's
/// "I only have a macbook" line): batch 12 × block 64, 2000 steps, AdamW at 1e-3 with 100 warmup
/// steps and cosine decay to 1e-4, β₂ = 0.99, weight decay 0.1 on matrices only, gradients clipped
/// to norm 1, evaluation on 20 batches.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record TrainingOptions
{
    public int Steps { get; init; } = 2000;
    public int BatchSize { get; init; } = 12;
    /// <summary>The window length T; null: the model's <c>ContextLength</c>.</summary>
    public int? BlockSize { get; init; }
    public BatchOrder BatchOrder { get; init; } = BatchOrder.RandomWindows;
    /// <summary>Micro-batches whose gradients add up before one optimizer step: an effective batch of
    /// BatchSize × this, in the memory of one BatchSize batch.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    public float LearningRate { get; init; } = 1e-3f;
    public float MinLearningRate { get; init; } = 1e-4f;
    public int WarmupSteps { get; init; } = 100;
    /// <summary>The step the cosine reaches <see cref="MinLearningRate"/>; null: <see cref="Steps"/>.</summary>
    public int? DecaySteps { get; init; }
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.99f;
    public float WeightDecay { get; init; } = 0.1f;
    /// <summary>Clip the gradient's global norm to this; 0 turns clipping off.</summary>
    public float GradClip { get; init; } = 1f;

    /// <summary>Evaluate every this many steps (and at the first and last); 0: only at the end.</summary>
    public int EvalInterval { get; init; } = 250;
    public int EvalBatches { get; init; } = 20;

    public ulong Seed { get; init; } = 1337;

    /// <summary>Where to write checkpoints, and how often (steps); 0: only when asked.</summary>
    public string? CheckpointPath { get; init; }
    public int CheckpointInterval { get; init; }

    /// <summary>Mixed precision: <see cref="DType.BFloat16"/> runs the forward and backward passes inside
    /// <c>Autocast.BFloat16()</c> (matrix products and attention in bf16, accumulated in float32), while the
    /// parameters, gradients and optimizer state stay float32: the master weights. <see cref="DType.Float16"/>
    /// does the same in IEEE half (for GPUs without bf16, such as a T4 or V100), with dynamic loss scaling by a
    /// <see cref="GradScaler"/> (see <see cref="InitialGradScale"/>): a step whose gradients overflow is skipped and
    /// the scale halves. Null: float32 throughout.</summary>
    public DType? Autocast { get; init; }

    /// <summary>The loss scale a float16 run starts from (PyTorch's default, 2^16); it halves on every overflow and
    /// doubles after 2,000 clean steps.</summary>
    public float InitialGradScale { get; init; } = 65536f;

    /// <summary>Floating-point operations per token of one training step (forward and backward), for the
    /// model FLOPs utilisation; <see cref="ModelFlops.GptPerToken"/> gives a GPT's. Null: no MFU.</summary>
    public double? FlopsPerToken { get; init; }
    /// <summary>The hardware's peak FLOP/s the MFU is a fraction of (see <see cref="ModelFlops"/>). Null: no MFU.</summary>
    public double? PeakFlops { get; init; }

    /// <summary>Called after every step with plain numbers, for a live chart or a progress line.</summary>
    public Action<TrainingProgress>? Progress { get; init; }
}
