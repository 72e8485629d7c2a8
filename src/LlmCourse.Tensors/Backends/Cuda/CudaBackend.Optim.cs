using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>The fused Adam/AdamW update: one kernel over parameter, gradient and both moments, PyTorch's order of operations.</summary>
internal sealed partial class CudaBackend
{
    public override void AdamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, in AdamStepArgs args)
    {
        var s = CpuBackend.AdamScalars.From(args);
        grad = ContiguousAs(grad, DType.Float32);
        var n = param.Count;
        var a = new KernelArgs();
        a.Add(P(param));
        a.Add(P(grad));
        a.Add(P(expAvg));
        a.Add(P(expAvgSq));
        a.Add(n);
        a.Add(s.Beta1);
        a.Add(s.Beta2);
        a.Add(s.OneMinusBeta1);
        a.Add(s.OneMinusBeta2);
        a.Add(s.Bias2Sqrt);
        a.Add(s.StepSize);
        a.Add(s.Decay);
        a.Add(s.L2);
        a.Add(s.Eps);
        a.Add(s.Decoupled ? 1 : 0);
        Dev.LaunchElementwise("adam.cu", "adam_step", n, ref a);
    }
}
