using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// The fused Adam/AdamW update: one pass over parameter, gradient and both moments instead of the
/// eight tensor ops PyTorch's single-tensor loop runs. Every path performs PyTorch 1.13's operations
/// in PyTorch's order, each rounded to float (no fused multiply-add), so the vector and scalar paths
/// give the same bits; <see cref="AdamReference"/> is the plain loop they are tested against.
/// </summary>
internal sealed partial class CpuBackend
{
    /// <summary>The per-step scalars, computed in double and rounded where PyTorch hands them to a float kernel.</summary>
    internal readonly record struct AdamScalars(float Beta1, float Beta2, float OneMinusBeta1, float OneMinusBeta2, float Bias2Sqrt,
        float StepSize, float Decay, float L2, float Eps, bool Decoupled)
    {
        public static AdamScalars From(in AdamStepArgs a)
        {
            var bias1 = 1.0 - Math.Pow(a.Beta1, a.Step);
            return new AdamScalars(a.Beta1, a.Beta2, (float)(1.0 - a.Beta1), (float)(1.0 - a.Beta2),
                (float)Math.Sqrt(1.0 - Math.Pow(a.Beta2, a.Step)), (float)(a.LearningRate / bias1),
                (float)(1.0 - (double)a.LearningRate * a.WeightDecay), a.Decoupled ? 0f : a.WeightDecay, a.Eps,
                a.Decoupled && a.WeightDecay != 0f);
        }
    }

    public override void AdamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, in AdamStepArgs args)
    {
        var s = AdamScalars.From(args);
        grad = grad.ContiguousData();
        var n = param.Count;
        if (n < ParallelThreshold) AdamBody.RunRange(s, param, grad, expAvg, expAvgSq, 0, n);
        else CpuParallel.For(n, CpuParallel.Grain(n, 4 * Block), new AdamBody(s, param, grad, expAvg, expAvgSq));
    }

    sealed class AdamBody(AdamScalars s, Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq) : IRangeBody
    {
        public void Run(long start, long end) => RunRange(s, param, grad, expAvg, expAvgSq, start, end);

        public static void RunRange(in AdamScalars s, Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, long start, long end)
        {
            int from = (int)start, count = (int)(end - start);
            Adam(s, Floats(param).Slice(from, count), Floats(grad).Slice(from, count), Floats(expAvg).Slice(from, count),
                Floats(expAvgSq).Slice(from, count));
        }
    }

    static void Adam(in AdamScalars s, Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            ref var pr = ref MemoryMarshal.GetReference(p);
            ref var gr = ref MemoryMarshal.GetReference(g);
            ref var mr = ref MemoryMarshal.GetReference(m);
            ref var vr = ref MemoryMarshal.GetReference(v);
            var beta1 = Vector512.Create(s.Beta1);
            var beta2 = Vector512.Create(s.Beta2);
            var omb1 = Vector512.Create(s.OneMinusBeta1);
            var omb2 = Vector512.Create(s.OneMinusBeta2);
            var bias2Sqrt = Vector512.Create(s.Bias2Sqrt);
            var eps = Vector512.Create(s.Eps);
            var negStep = Vector512.Create(-s.StepSize);
            var decay = Vector512.Create(s.Decay);
            var l2 = Vector512.Create(s.L2);
            for (; i <= p.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var ui = (nuint)i;
                var pi = Vector512.LoadUnsafe(ref pr, ui);
                var gi = Vector512.LoadUnsafe(ref gr, ui);
                if (s.L2 != 0f) gi += l2 * pi;
                if (s.Decoupled) pi *= decay;
                var mi = Vector512.LoadUnsafe(ref mr, ui) * beta1 + omb1 * gi;
                var vi = Vector512.LoadUnsafe(ref vr, ui) * beta2 + omb2 * gi * gi;
                var denom = Vector512.Sqrt(vi) / bias2Sqrt + eps;
                pi += negStep * mi / denom;
                mi.StoreUnsafe(ref mr, ui);
                vi.StoreUnsafe(ref vr, ui);
                pi.StoreUnsafe(ref pr, ui);
            }
        }
        AdamReference(s, p[i..], g[i..], m[i..], v[i..]);
    }

    /// <summary>PyTorch 1.13's single-tensor Adam/AdamW, one element at a time.</summary>
    static void AdamReference(in AdamScalars s, Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v)
    {
        for (var i = 0; i < p.Length; i++)
        {
            var gi = g[i];
            if (s.L2 != 0f) gi += s.L2 * p[i];                         // Adam: grad.add(param, alpha=wd)
            if (s.Decoupled) p[i] *= s.Decay;                           // AdamW: param.mul_(1 - lr*wd)
            m[i] = m[i] * s.Beta1 + s.OneMinusBeta1 * gi;               // exp_avg.mul_(b1).add_(g, alpha=1-b1)
            v[i] = v[i] * s.Beta2 + s.OneMinusBeta2 * gi * gi;          // exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2)
            var denom = MathF.Sqrt(v[i]) / s.Bias2Sqrt + s.Eps;         // (exp_avg_sq.sqrt() / sqrt(bc2)).add_(eps)
            p[i] += -s.StepSize * m[i] / denom;                         // param.addcdiv_(exp_avg, denom, value=-step_size)
        }
    }

    /// <summary>Test hook: the reference loop on host arrays.</summary>
    internal static void AdamReferenceForTests(in AdamStepArgs args, float[] p, float[] g, float[] m, float[] v) =>
        AdamReference(AdamScalars.From(args), p, g, m, v);
}
