using System.Runtime.InteropServices;
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

    /// <summary>adam.cu's <c>AdamSpan</c>: one parameter's tensors, length, first block and step scalars (88 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    struct AdamSpan
    {
        public long P, G, M, V, N, FirstBlock;
        public float Beta1, Beta2, OneMinusBeta1, OneMinusBeta2, Bias2Sqrt, StepSize, Decay, L2, Eps;
        public int Decoupled;
    }

    /// <summary>
    /// Every parameter's update in one launch (PyTorch's fused AdamW does the same with multi_tensor_apply): a table of
    /// spans, each parameter getting the blocks a launch of its own would, the same arithmetic per element.
    /// </summary>
    public override bool AdamStepsInOneLaunch => true;

    public override void AdamSteps(IReadOnlyList<AdamUpdate> updates)
    {
        var live = updates.Where(u => u.Param.Count > 0).ToList();
        if (live.Count == 0) return;
        var grads = live.Select(u => ContiguousAs(u.Grad, DType.Float32)).ToList();
        var table = new AdamSpan[live.Count];
        var blocks = 0;
        for (var i = 0; i < live.Count; i++)
        {
            var (u, s) = (live[i], CpuBackend.AdamScalars.From(live[i].Args));
            table[i] = new AdamSpan
            {
                P = (long)P(u.Param), G = (long)P(grads[i]), M = (long)P(u.ExpAvg), V = (long)P(u.ExpAvgSq), N = u.Param.Count,
                FirstBlock = blocks, Beta1 = s.Beta1, Beta2 = s.Beta2, OneMinusBeta1 = s.OneMinusBeta1, OneMinusBeta2 = s.OneMinusBeta2,
                Bias2Sqrt = s.Bias2Sqrt, StepSize = s.StepSize, Decay = s.Decay, L2 = s.L2, Eps = s.Eps, Decoupled = s.Decoupled ? 1 : 0,
            };
            blocks = checked(blocks + (int)Dev.GridFor(u.Param.Count));
        }
        var bytes = MemoryMarshal.AsBytes(table.AsSpan());
        var device = Temp([bytes.Length / sizeof(int)], DType.Int32);
        HostToDevice(bytes, Base(device));
        var a = new KernelArgs();
        a.Add(P(device));
        a.Add(live.Count);
        Dev.Launch("adam.cu", "adam_step_multi", (uint)blocks, 1, CudaDevice.Threads, 0, ref a);
        GC.KeepAlive(grads);    // contiguous copies, held until the kernel is queued
        GC.KeepAlive(device);
    }
}
