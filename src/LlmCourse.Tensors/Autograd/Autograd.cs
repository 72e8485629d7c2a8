namespace LlmCourse.Tensors;

/// <summary>
/// Switches for gradient recording. <see cref="NoGrad"/> is per thread (like PyTorch's grad mode);
/// <see cref="DetectNonFinite"/> is process-wide, because notebook cells may run on different threads.
/// </summary>
public static class Autograd
{
    [ThreadStatic] static bool gradDisabled;
    static volatile bool detectNonFinite;

    /// <summary>False inside a <see cref="NoGrad"/> scope: ops record nothing for backward.</summary>
    public static bool IsGradEnabled => !gradDisabled;

    /// <summary><c>using (Autograd.NoGrad()) { ... }</c>: inference, evaluation and in-place updates.</summary>
    public static GradModeScope NoGrad() => new(enabled: false);

    /// <summary>Turns recording back on inside a <see cref="NoGrad"/> scope.</summary>
    public static GradModeScope EnableGrad() => new(enabled: true);

    /// <summary>
    /// When true every op checks its output (forward) and its input gradients (backward) and throws a
    /// <see cref="NonFiniteException"/> naming the op that first produced a NaN, or an infinity none of
    /// its inputs held (so a mask filled with -inf is fine, log(0) is caught). Slows every op down.
    /// </summary>
    public static bool DetectNonFinite
    {
        get => detectNonFinite;
        set => detectNonFinite = value;
    }

    /// <summary>Turns <see cref="DetectNonFinite"/> on (or off) until disposed, then restores it.</summary>
    public static NonFiniteDetection DetectNonFiniteScope(bool on = true) => new(on);

    public readonly struct GradModeScope : IDisposable
    {
        readonly bool previousDisabled;

        internal GradModeScope(bool enabled)
        {
            previousDisabled = gradDisabled;
            gradDisabled = !enabled;
        }

        public void Dispose() => gradDisabled = previousDisabled;
    }

    public readonly struct NonFiniteDetection : IDisposable
    {
        readonly bool previous;

        internal NonFiniteDetection(bool on)
        {
            previous = detectNonFinite;
            detectNonFinite = on;
        }

        public void Dispose() => detectNonFinite = previous;
    }

    /// <summary>True when an op on <paramref name="a"/> must record a node.</summary>
    internal static bool Needs(Tensor a) => !gradDisabled && a.RequiresGrad;

    internal static bool Needs(Tensor a, Tensor b) => !gradDisabled && (a.RequiresGrad || b.RequiresGrad);

    internal static bool Needs(Tensor? a, Tensor? b, Tensor? c) =>
        !gradDisabled && ((a?.RequiresGrad ?? false) || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false));

    internal static bool Needs(IReadOnlyList<Tensor> inputs)
    {
        if (gradDisabled) return false;
        foreach (var t in inputs)
            if (t.RequiresGrad) return true;
        return false;
    }
}
