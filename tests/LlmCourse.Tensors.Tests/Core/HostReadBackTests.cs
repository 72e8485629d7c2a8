using LlmCourse.Tensors.Optim;
using LlmCourse.Tensors.Tests.Parity;
using LlmCourse.Tensors.Tests.Regression;

namespace LlmCourse.Tensors.Tests.Core;

/// <summary>
/// A training step must not read device memory back before its loss is read: on a GPU every read-back
/// makes the host wait for the stream (CudaDevice.HostWaits, counted on the GPU by DeferredCheckTests).
/// Here, on the CPU, the profiler counts the backend's read-back methods per section, so an op that starts
/// calling Item() or ToArray() on the step's path (a bounds check, a count) fails this test in CI too.
/// </summary>
[Collection(GlobalStateCollection.Name)]
public sealed class HostReadBackTests
{
    static readonly string[] ReadBacks = ["ReadElement", "Download", "SumOfSquares", "FindNonFinite"];

    [Fact]
    public void AGptStepReadsBackOnlyItsLossAndTheHostStepCounters()
    {
        var config = Fixtures.Get("gpt", "config").ToInt32Array();   // vocab, layers, heads, embd, block, batch
        var parameters = Fixtures.File("gpt").Where(kv => kv.Key.StartsWith("param/", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["param/".Length..], kv => Fixtures.Copy(kv.Value).WithGrad());
        var model = new TinyGpt(parameters, config[1], config[2]);
        var (idx, targets) = (Fixtures.Copy(Fixtures.Get("gpt", "idx")), Fixtures.Copy(Fixtures.Get("gpt", "targets")));
        var optimizer = new AdamW(model.Parameters.Values, lr: 1e-3f);

        Tensor loss;
        using var profile = OpProfiler.Start();
        using (OpProfiler.Section(OpProfiler.ForwardSection)) loss = model.Forward(idx, targets, fusedAttention: true).Loss;
        loss.Backward();
        using (OpProfiler.Section(OpProfiler.OptimizerSection)) optimizer.Step();
        long Calls(string section, string kernel) =>
            profile.Kernels.Where(k => k.Section == section && k.Kernel == kernel).Sum(k => k.Calls);
        foreach (var kernel in ReadBacks)
        {
            Assert.True(Calls(OpProfiler.ForwardSection, kernel) == 0, $"the forward pass called {kernel} {Calls(OpProfiler.ForwardSection, kernel)} times");
            Assert.True(Calls(OpProfiler.BackwardSection, kernel) == 0, $"the backward pass called {kernel} {Calls(OpProfiler.BackwardSection, kernel)} times");
        }
        // AdamW reads each parameter's step count, a CPU tensor on every device (no GPU wait), and nothing else.
        Assert.Equal(model.Parameters.Count, Calls(OpProfiler.OptimizerSection, "ReadElement"));
        Assert.Equal(0, Calls(OpProfiler.OptimizerSection, "Download"));
        // The ids are still checked, once each: the token ids (the embedding's own check, not IndexSelect's too) and the targets.
        Assert.Equal(2, Calls(OpProfiler.ForwardSection, "CheckIndices"));
        using (OpProfiler.Section(OpProfiler.ForwardSection)) _ = loss.Item();
        Assert.Equal(1, Calls(OpProfiler.ForwardSection, "ReadElement"));
        profile.Stop();
    }
}
