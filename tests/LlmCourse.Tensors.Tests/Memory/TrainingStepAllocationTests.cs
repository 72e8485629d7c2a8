using LlmCourse.Tensors.NN;
using LlmCourse.Tensors.Optim;
using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Tensors.Tests.Memory;

/// <summary>
/// Inside a <see cref="TensorScope"/> a training step reuses the previous step's buffers: what it
/// allocates on the managed heap is a constant number of small objects (tensor headers, graph nodes),
/// not tensor data. Measured with <see cref="GC.GetAllocatedBytesForCurrentThread"/>. Runs alone: the
/// memory pool is process-wide, and tests running beside it would take the buffers it returns.
/// </summary>
[Collection(Core.GlobalStateCollection.Name)]
public sealed class TrainingStepAllocationTests
{
    sealed class GeluLayer : Module, IModule
    {
        public Tensor Forward(Tensor input) => input.Gelu();
    }

    static long BytesPerStep(int batch, bool scoped)
    {
        var g = new Generator(1);
        var model = new Sequential(new Linear(64, 256, generator: g), new GeluLayer(), new Dropout(0.1f, g), new LayerNorm(256),
            new Linear(256, 10, generator: g));
        var optimizer = new AdamW(model.Parameters(), lr: 1e-3f);
        var x = Tensor.Randn([batch, 64], g);
        var y = Tensor.RandInt(0, 10, [batch], g);
        void Step()
        {
            using var scope = scoped ? TensorScope.Begin() : null;
            optimizer.ZeroGrad();
            var loss = F.CrossEntropy(model.Forward(x), y);
            loss.Backward();
            GradClip.ClipGradNorm(model.Parameters(), 1f);
            optimizer.Step();
            _ = loss.Item();
        }
        for (var i = 0; i < 10; i++) Step(); // warm up: optimizer state, pool, JIT
        const int steps = 20;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < steps; i++) Step();
        return (GC.GetAllocatedBytesForCurrentThread() - before) / steps;
    }

    [Fact]
    public void AScopedStepAllocatesASmallConstantAmount()
    {
        var small = BytesPerStep(64, scoped: true);
        var large = BytesPerStep(512, scoped: true);
        // Tensor data per step: activations alone are 512 x (256 x 5 + 10) floats = 2.6 MB at batch 512.
        // Measured: 17-22 KB per step at batch 64 and 512 (headers and graph nodes of ~40 ops). The
        // bound leaves room for JIT and runtime differences but fails if any per-element buffer leaks in.
        Assert.True(small < 64 * 1024, $"batch 64: {small} bytes per step");
        Assert.True(large < 64 * 1024, $"batch 512: {large} bytes per step");
        Assert.True(Math.Abs(large - small) < 16 * 1024, $"allocation grows with the batch: {small} -> {large} bytes per step");
    }

    [Fact]
    public void WithoutAScopeTheDataIsAllocatedEveryStep()
    {
        // The contrast that shows what the pool saves: the same step allocates its tensors afresh.
        var unscoped = BytesPerStep(512, scoped: false);
        Assert.True(unscoped > 1_000_000, $"unscoped step allocated only {unscoped} bytes");
    }
}
