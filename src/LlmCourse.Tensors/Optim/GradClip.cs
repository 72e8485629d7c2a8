namespace LlmCourse.Tensors.Optim;

/// <summary>Global-norm gradient clipping (PyTorch's <c>clip_grad_norm_</c>).</summary>
public static class GradClip
{
    /// <summary>
    /// Scales all gradients by min(1, maxNorm / (total + 1e-6)) where total is the L2 norm of all of
    /// them together; returns the total norm before clipping (sums of squares in double precision).
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        var grads = Gradients(parameters);
        if (grads.Count == 0) return 0f;
        var total = Norm(grads);
        var coefficient = maxNorm / (total + 1e-6f);
        if (coefficient < 1f || float.IsNaN(coefficient))
            foreach (var onDevice in grads.GroupBy(g => g.Device))
                onDevice.First().Backend.ScaleInPlace(onDevice.ToList(), coefficient);
        return total;
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
