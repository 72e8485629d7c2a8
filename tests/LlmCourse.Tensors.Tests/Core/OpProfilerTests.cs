namespace LlmCourse.Tensors.Tests.Core;

using System.Reflection;
using LlmCourse.Tensors.Backends;
using LlmCourse.Tensors.Optim;

/// <summary>OpProfiler times every kernel by section; it is process-wide, so these run alone.</summary>
[Collection(GlobalStateCollection.Name)]
public sealed class OpProfilerTests
{
    [Fact]
    public void KernelsAreCountedUnderTheSectionThatRanThem()
    {
        var g = new Generator(3);
        var x = Tensor.Randn([4, 3], g).WithGrad();
        var w = Tensor.Randn([3, 5], g).WithGrad();
        var optimizer = new AdamW([x, w]);
        using var profile = OpProfiler.Start();
        var loss = x.MatMul(w).Gelu().Sum();
        loss.Backward();
        using (OpProfiler.Section(OpProfiler.OptimizerSection)) optimizer.Step();
        profile.Stop();

        long Calls(string section, string kernel) =>
            profile.Kernels.Where(k => k.Section == section && k.Kernel == kernel).Sum(k => k.Calls);
        Assert.Equal(1, Calls(OpProfiler.ForwardSection, "MatMul"));       // x w
        Assert.Equal(2, Calls(OpProfiler.BackwardSection, "MatMul"));      // dx = g w^T, dw = x^T g
        Assert.Equal(1, Calls(OpProfiler.ForwardSection, "Unary.Gelu"));
        Assert.Equal(1, Calls(OpProfiler.BackwardSection, "UnaryBackward.Gelu"));
        Assert.Equal(2, Calls(OpProfiler.OptimizerSection, "AdamStep"));   // one per parameter
        Assert.Equal(0, Calls(OpProfiler.ForwardSection, "AdamStep"));
        Assert.Contains(profile.Families, f => f.Family == KernelFamilies.MatMul && f.Section == OpProfiler.BackwardSection && f.Calls == 2);
        Assert.True(profile.KernelTime <= profile.WallTime, $"kernel time {profile.KernelTime} exceeds the wall time {profile.WallTime}");
        var report = profile.Format();
        Assert.Contains("matmul", report);
        Assert.Contains("outside kernels", report);
        Assert.Contains("UnaryBackward.Gelu", report);
    }

    /// <summary>
    /// Under autocast the CPU rounds a product in a pass of its own, and the profile shows it as such (on a GPU cuBLAS
    /// rounds as it stores: one MatMul, no RoundTo, as in an unprofiled run); the rounded result is the same either way.
    /// </summary>
    [Fact]
    public void AutocastProductsShowTheirRoundingPassOnTheCpu()
    {
        var g = new Generator(5);
        var x = Tensor.Randn([4, 3], g);
        var w = Tensor.Randn([3, 5], g);
        Tensor plain, profiled;
        using (Autocast.BFloat16()) plain = x.MatMul(w);
        using (var profile = OpProfiler.Start())
        {
            using (Autocast.BFloat16()) profiled = x.MatMul(w);
            profile.Stop();
            long Calls(string kernel) => profile.Kernels.Where(k => k.Kernel == kernel).Sum(k => k.Calls);
            Assert.Equal(1, Calls("MatMul"));
            Assert.Equal(2, Calls("MatMulOperand"));   // the two operands rounded
            Assert.Equal(1, Calls("RoundTo"));         // the product's rounding pass
        }
        Assert.Equal(plain.ToArray(), profiled.ToArray());
        Assert.Equal(profiled.ToArray(), profiled.To(DType.BFloat16).To(DType.Float32).ToArray());
    }

    [Fact]
    public void ProfilingChangesNoResultAndEndsWithStop()
    {
        float[] Run()
        {
            var g = new Generator(11);
            var a = Tensor.Randn([6, 7], g).WithGrad();
            var b = Tensor.Randn([7, 5], g);
            a.MatMul(b).Softmax(-1).Square().Sum().Backward();
            return a.Grad!.ToArray();
        }
        var plain = Run();
        float[] profiled;
        using (var profile = OpProfiler.Start())
        {
            Assert.IsType<ProfilingBackend>(Device.Cpu.Backend);
            profiled = Run();
            Assert.NotEmpty(profile.Kernels);
        }
        Assert.Equal(plain, profiled);
        Assert.IsNotType<ProfilingBackend>(Device.Cpu.Backend);
        var count = Tensor.Zeros(3).Add(1f).Sum().Item();   // recorded nowhere after Stop
        Assert.Equal(3f, count);
    }

    [Fact]
    public void OneProfilerAtATimeAndSectionsNest()
    {
        using var first = OpProfiler.Start();
        var e = Assert.Throws<InvalidOperationException>(() => OpProfiler.Start());
        Assert.Contains("already recording", e.Message);
        using (OpProfiler.Section("outer"))
        {
            Tensor.Ones(2).Exp();
            using (OpProfiler.Section("inner")) Tensor.Ones(2).Log();
            Tensor.Ones(2).Sqrt();
        }
        Tensor.Ones(2).Neg();
        first.Stop();
        string SectionOf(string kernel) => Assert.Single(first.Kernels, k => k.Kernel == kernel).Section;
        Assert.Equal("outer", SectionOf("Unary.Exp"));
        Assert.Equal("inner", SectionOf("Unary.Log"));
        Assert.Equal("outer", SectionOf("Unary.Sqrt"));
        Assert.Equal(OpProfiler.ForwardSection, SectionOf("Unary.Neg"));
        using var second = OpProfiler.Start();   // the first one stopped, so a new one may start
        Assert.True(second.IsRecording);
        Assert.False(first.IsRecording);
    }

    /// <summary>A backend method the wrapper did not override would run the base class's code, or none, unprofiled.</summary>
    [Fact]
    public void TheProfilingBackendForwardsEveryBackendMethod()
    {
        var overridable = typeof(Backend).GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Where(m => (m.IsAbstract || m.IsVirtual) && m.DeclaringType == typeof(Backend));
        var missing = overridable
            .Where(m => typeof(ProfilingBackend).GetMethod(m.Name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic,
                m.GetParameters().Select(p => p.ParameterType).ToArray()) is not { } o || o.DeclaringType != typeof(ProfilingBackend))
            .Select(m => m.Name)
            .ToArray();
        Assert.True(missing.Length == 0, $"ProfilingBackend does not override: {string.Join(", ", missing)}");
    }

    [Theory]
    [InlineData("MatMul", KernelFamilies.MatMul)]
    [InlineData("AttentionBackward", KernelFamilies.Attention)]
    [InlineData("UnaryBackward.Gelu", KernelFamilies.Elementwise)]
    [InlineData("MatMulOperand", KernelFamilies.Elementwise)]
    [InlineData("LayerNormBackward", KernelFamilies.Norms)]
    [InlineData("CrossEntropy", KernelFamilies.SoftmaxAndLoss)]
    [InlineData("AdamStep", KernelFamilies.Optimizer)]
    [InlineData("IndexAdd", KernelFamilies.Indexing)]
    [InlineData("Reduce.Sum", KernelFamilies.Reductions)]
    public void KernelsFallIntoTheirFamily(string kernel, string family) => Assert.Equal(family, KernelFamilies.Of(kernel));
}
