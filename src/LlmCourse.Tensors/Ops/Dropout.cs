using LlmCourse.Tensors.Backends;

namespace LlmCourse.Tensors;

/// <summary>
/// Dropout as one fused op with no mask in memory: each call draws one 64-bit seed from the generator, and
/// element i is kept when a counter-based hash of (seed, i) says so (<see cref="CounterDropout"/>, the scheme of
/// fused attention's dropout and of PyTorch's Philox-based CUDA dropout). The backward recomputes the same
/// decisions from the seed. So a GPU draws nothing on the host and uploads nothing, and the CPU and a GPU drop
/// the same elements for the same generator.
/// </summary>
public static partial class Functional
{
    /// <summary>
    /// Zeroes each element with probability <paramref name="p"/> and scales the rest by 1/(1-p) when
    /// <paramref name="training"/>; the identity otherwise. Which elements are dropped depends on
    /// <paramref name="generator"/> (one draw per call) and on the element's position only.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, bool training, Generator? generator = null)
    {
        if (p < 0f || p > 1f) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout: probability has to be between 0 and 1");
        if (!training || p == 0f) return x;
        if (p == 1f) return x * 0f;
        x.FloatInput("Dropout");
        var keep = 1f - p;
        var scale = 1f / keep;
        var seed = (generator ?? Generator.Default).NextUInt64();
        var input = x.ContiguousData();
        var y = input.NewEmpty(input.shape);
        x.Backend.Dropout(input, keep, scale, seed, y);
        if (Autograd.DetectNonFinite) NonFinite.Check("Dropout", "forward", y, x);
        if (Autograd.Needs(x)) y.SetGradFn(new DropoutBackward(x, keep, scale, seed));
        return y;
    }

    /// <summary>The gradient goes through the kept elements, scaled as they were: the forward's call on the gradient.</summary>
    sealed class DropoutBackward(Tensor x, float keep, float scale, ulong seed) : Node("DropoutBackward", x)
    {
        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var g = gy.ContiguousData();
            var result = g.NewEmpty(g.shape);
            gy.Backend.Dropout(g, keep, scale, seed, result);
            gx[0] = result;
        }
    }
}
