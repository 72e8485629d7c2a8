namespace LlmCourse.Tensors.Optim;

/// <summary>Global-norm gradient clipping (PyTorch's <c>clip_grad_norm_</c>).</summary>
public static class GradClip
{
    /// <summary>
    /// Scales all gradients by min(1, maxNorm / (total + 1e-6)) where total is the L2 norm of all of
    /// them together; returns the total norm before clipping (sums of squares in double precision).
    /// On a GPU the host waits once, to read the norm; <see cref="ClipGradNormAsTensor"/> does not wait.
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        var grads = Gradients(parameters);
        if (grads.Count == 0) return 0f;
        if (grads.Select(g => g.Device).Distinct().Count() == 1) return grads[0].Backend.ClipToGlobalNorm(grads, maxNorm).Item();
        // Gradients on several devices: their sums of squares added on the host, then each device's rescale.
        var total = Norm(grads);
        var coefficient = maxNorm / (total + 1e-6f);
        if (coefficient < 1f || float.IsNaN(coefficient))
            foreach (var onDevice in grads.GroupBy(g => g.Device))
                onDevice.First().Backend.ScaleInPlace(onDevice.ToList(), coefficient);
        return total;
    }

    /// <summary>
    /// <see cref="ClipGradNorm"/> without reading the norm back: it comes as a one-element tensor on the gradients'
    /// device, which the host waits for only when it reads it (PyTorch's <c>clip_grad_norm_</c> returns a tensor too).
    /// On a GPU the whole step then queues with no wait, as PyTorch's does; read the norm after the optimizer step
    /// when you log it. Gradients on several devices are clipped by <see cref="ClipGradNorm"/> (the norm is a CPU tensor).
    /// </summary>
    public static Tensor ClipGradNormAsTensor(IEnumerable<Tensor> parameters, float maxNorm)
    {
        var list = parameters as IReadOnlyCollection<Tensor> ?? parameters.ToList();
        var grads = Gradients(list);
        if (grads.Count > 0 && grads.Select(g => g.Device).Distinct().Count() == 1) return grads[0].Backend.ClipToGlobalNorm(grads, maxNorm);
        return Tensor.FromArray([ClipGradNorm(list, maxNorm)], [1], Device.Cpu);
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
