namespace LlmCourse.Tensors.Optim;

/// <summary>Global-norm gradient clipping (PyTorch's <c>clip_grad_norm_</c>).</summary>
public static class GradClip
{
    /// <summary>
    /// Scales all gradients by min(1, maxNorm / (total + 1e-6)) where total is the L2 norm of all of
    /// them together; returns the total norm before clipping (sums of squares in double precision).
    /// On a GPU the host waits once, to read the norm; <see cref="ClipGradNormAsTensor"/> does not wait.
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm) => ClipGradNormAsTensor(parameters, maxNorm).Item();

    /// <summary>
    /// <see cref="ClipGradNorm"/> without reading the norm back: it comes as a one-element tensor on the gradients'
    /// device, which the host waits for only when it reads it (PyTorch's <c>clip_grad_norm_</c> returns a tensor too).
    /// On a GPU the whole step then queues with no wait, as PyTorch's does; read the norm after the optimizer step
    /// when you log it. For gradients on several devices (their sums of squares added on the host) the norm is a CPU tensor.
    /// </summary>
    public static Tensor ClipGradNormAsTensor(IEnumerable<Tensor> parameters, float maxNorm)
    {
        var grads = Gradients(parameters);
        if (grads.Count > 0 && grads.All(g => g.Device == grads[0].Device)) return grads[0].Backend.ClipToGlobalNorm(grads, maxNorm);
        var total = Norm(grads);
        if (ClipCoefficient(total, maxNorm, out var coefficient))
            foreach (var onDevice in grads.GroupBy(g => g.Device))
                onDevice.First().Backend.ScaleInPlace(onDevice.ToList(), coefficient);
        return Tensor.FromArray([total], [1], Device.Cpu);
    }

    /// <summary>
    /// The factor maxNorm / (total + 1e-6), and whether to scale by it: when it is below 1, or NaN (a non-finite
    /// norm, which then spreads to every gradient, as in PyTorch). The one place the rule is written on the host;
    /// elementwise.cu's clip_multi does the same float roundings on the device.
    /// </summary>
    internal static bool ClipCoefficient(float total, float maxNorm, out float coefficient)
    {
        coefficient = maxNorm / (total + 1e-6f);
        return coefficient < 1f || float.IsNaN(coefficient);
    }

    /// <summary>
    /// The L2 norm of all the parameters' gradients together, as if they were one vector (0 when none
    /// has a gradient): what <see cref="ClipGradNorm"/> compares with its limit, and what a trainer
    /// reports each step. Sums of squares in double precision.
    /// </summary>
    public static float GradNorm(IEnumerable<Tensor> parameters) => Norm(Gradients(parameters));

    static List<Tensor> Gradients(IEnumerable<Tensor> parameters) =>
        parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();

    /// <summary>Each device's gradients go to its backend together: a GPU reads one number back, not one per gradient.</summary>
    static float Norm(List<Tensor> grads)
    {
        double sumOfSquares = 0;
        foreach (var onDevice in grads.GroupBy(g => g.Device))
            sumOfSquares += onDevice.First().Backend.SumOfSquares(onDevice.ToList());
        return (float)Math.Sqrt(sumOfSquares);
    }
}
