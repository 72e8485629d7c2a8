using LlmCourse.Tensors.Backends.Cuda;
using LlmCourse.Tensors.Optim;
using LlmCourse.Tensors.Tests.Parity;
using LlmCourse.Tensors.Tests.Regression;
using F = LlmCourse.Tensors.Functional;
using static LlmCourse.Tensors.Tests.Cuda.Gpu;

namespace LlmCourse.Tensors.Tests.Cuda;

/// <summary>
/// On a GPU the index checks do not make the host wait (CudaDeviceAsserts): a bad id or target is thrown at
/// the next read-back with the CPU's message, the GPU stays usable after it (no kernel read out of bounds:
/// that would leave a sticky illegal-address error), a training step waits for the GPU only at its loss
/// read-back, and the embedding gradient, grouped on the GPU, is the CPU's bit for bit. Skips without a GPU.
/// </summary>
[Trait("Category", "Cuda")]
[Collection(Gpu.Collection)]
public sealed class DeferredCheckTests(ITestOutputHelper output)
{
    static CudaDevice Dev => CudaBackend.For(0).Gpu;

    static string CpuMessage(Action onCpu) => Assert.Throws<TensorShapeException>(onCpu).Message;

    /// <summary>The GPU still computes correctly after a reported error: no sticky fault, the slot was cleared.</summary>
    static void StillHealthy()
    {
        var x = Randn(5, 7, 33);
        Close("exp after a reported error", x.Exp().ToArray(), x.To(Gpu.Device).Exp().ToArray(), 1e-6, 2e-5);
        var ids = Tensor.FromArray([3, 0, 6, 3], [4]);
        Assert.Equal(F.Embedding(ids, x).ToArray(), F.Embedding(ids.To(Gpu.Device), x.To(Gpu.Device)).ToArray());
        Tensors.Cuda.Synchronize();   // nothing pending
    }

    [Fact]
    public void AnOutOfRangeEmbeddingIdIsReportedAtTheNextReadBackWithTheCpusMessage()
    {
        Require();
        var weight = Randn(1, 65, 16);
        var ids = Tensor.FromArray([3, 4, 70, -1, 80, 5], [2, 3]);
        var expected = CpuMessage(() => F.Embedding(ids, weight));
        Assert.Equal("Embedding: index 70 at position 2 is out of range for an embedding of 65 rows", expected);

        var waits = Dev.HostWaits;
        var y = F.Embedding(ids.To(Gpu.Device), weight.To(Gpu.Device));   // queued: no wait, no throw
        var z = (y * 2f).Sum(-1);
        Assert.Equal(waits, Dev.HostWaits);
        var e = Assert.Throws<TensorShapeException>(() => z.ToArray());
        output.WriteLine(e.Message);
        Assert.StartsWith(expected, e.Message);
        Assert.Contains("reported at this read-back", e.Message);
        // Reported once: the next read-back is clean, and the GPU is fine.
        Assert.Equal(6 * 16, y.ToArray().Length);
        StillHealthy();
    }

    [Fact]
    public void AnOutOfRangeTargetIsReportedAtTheLossReadBackWithTheCpusMessage()
    {
        Require();
        var logits = Randn(59, 3, 65);
        var bad = Tensor.FromArray([0, 70, 1], [3]);
        var expected = CpuMessage(() => F.CrossEntropy(logits, bad));
        var loss = F.CrossEntropy(logits.To(Gpu.Device), bad.To(Gpu.Device));   // queued: no throw yet
        var e = Assert.Throws<TensorShapeException>(() => loss.Item());
        Assert.StartsWith(expected, e.Message);
        Assert.Contains("target 70 at row 1", e.Message);
        StillHealthy();
    }

    [Fact]
    public void GatherAndIndexSelectReportTheirBadIndexAndReadNothingOutOfBounds()
    {
        Require();
        var x = Randn(2, 3, 4);
        var index = Tensor.FromArray([0, 1, 2, 2, 1_000_000, -7], [2, 3]);
        var expected = CpuMessage(() => x.T.Gather(0, index));
        var e = Assert.Throws<TensorShapeException>(() => x.To(Gpu.Device).T.Gather(0, index.To(Gpu.Device)).ToArray());
        Assert.StartsWith(expected, e.Message);
        var ids = Tensor.FromArray([1, int.MaxValue, int.MinValue], [3]);
        expected = CpuMessage(() => x.IndexSelect(1, ids));
        Assert.Equal("IndexSelect: index 2147483647 at position 1 is out of range for dim 1 of size 4", expected);
        e = Assert.Throws<TensorShapeException>(() => x.To(Gpu.Device).IndexSelect(1, ids.To(Gpu.Device)).ToArray());
        Assert.StartsWith(expected, e.Message);
        StillHealthy();
    }

    /// <summary>Two failed checks before a read-back: the first queued is reported, then the slot is clear.</summary>
    [Fact]
    public void TheFirstFailedCheckIsReportedOnceAtSynchronize()
    {
        Require();
        var weight = Randn(3, 10, 4).To(Gpu.Device);
        var logits = Randn(4, 2, 10).To(Gpu.Device);
        var first = CpuMessage(() => F.Embedding(Tensor.FromArray([9, 10, 11], [3]), weight.To(Device.Cpu)));
        _ = F.Embedding(Tensor.FromArray([9, 10, 11], [3], Gpu.Device), weight);
        _ = F.CrossEntropy(logits, Tensor.FromArray([12, 0], [2], Gpu.Device));
        var e = Assert.Throws<TensorShapeException>(() => Tensors.Cuda.Synchronize());
        Assert.StartsWith(first, e.Message);
        Tensors.Cuda.Synchronize();   // nothing left
        StillHealthy();
    }

    /// <summary>
    /// One GPT step (forward with fused attention, backward, AdamW) after a warm-up step: the host waits for the
    /// GPU zero times while queuing it, and once for loss.Item().
    /// </summary>
    [Fact]
    public void ATrainingStepWaitsForTheGpuOnlyAtItsLossReadBack()
    {
        Require();
        var config = Fixtures.Get("gpt", "config").ToInt32Array();
        var parameters = Fixtures.File("gpt").Where(kv => kv.Key.StartsWith("param/", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["param/".Length..], kv => Fixtures.Copy(kv.Value).To(Gpu.Device).Detach().WithGrad());
        var model = new TinyGpt(parameters, config[1], config[2]);
        var idx = Fixtures.Copy(Fixtures.Get("gpt", "idx")).To(Gpu.Device);
        var targets = Fixtures.Copy(Fixtures.Get("gpt", "targets")).To(Gpu.Device);
        var optimizer = new AdamW(model.Parameters.Values, lr: 1e-3f);
        Tensor Step()
        {
            optimizer.ZeroGrad();
            var loss = model.Forward(idx, targets, fusedAttention: true).Loss;
            loss.Backward();
            optimizer.Step();
            return loss;
        }
        var first = Step().Item();   // compiles and loads the kernels
        var before = Dev.HostWaits;
        var loss = Step();
        var queued = Dev.HostWaits - before;
        var value = loss.Item();
        var total = Dev.HostWaits - before;
        output.WriteLine($"loss {first} then {value}; host waits while queuing the step: {queued}, after loss.Item(): {total}");
        Assert.Equal(0, queued);
        Assert.Equal(1, total);
        Assert.True(value < first, $"the loss did not go down: {first} then {value}");
    }

    /// <summary>The embedding gradient, grouped on the GPU (counting sort), against the CPU's, exactly, twice.</summary>
    [Theory]
    [InlineData(4096, 65, 48, false)]      // a character model's ids: few, frequent
    [InlineData(5000, 50304, 8, false)]    // a GPT-2 vocabulary: most rows untouched
    [InlineData(4096, 10, 16, true)]       // every id the same
    public void IndexAddIsTheCpusBitsRunAfterRun(int count, int vocab, int dim, bool allSame)
    {
        Require();
        var g = new Generator(41);
        var ids = Enumerable.Range(0, count).Select(_ => allSame ? 7 : (int)(g.NextFloat() * g.NextFloat() * vocab) % vocab).ToArray();
        var indices = Tensor.FromArray(ids, [count]);
        var weight = Randn(42, vocab, dim);
        var upstream = Randn(43, count, dim);
        float[] Gradient(Device device)
        {
            var w = weight.To(device).Detach().WithGrad();
            (F.Embedding(indices.To(device), w) * upstream.To(device)).Sum().Backward();
            return w.Grad!.ToArray();
        }
        var cpu = Gradient(Device.Cpu);
        var gpu = Gradient(Gpu.Device);
        Assert.Equal(cpu, gpu);
        Assert.Equal(gpu, Gradient(Gpu.Device));
        // Dim 1 of a 3-d tensor: outer 3, the same grouping used for every outer slice.
        var x = Randn(44, 3, vocab, 2);
        var small = Tensor.FromArray(ids.Take(300).ToArray(), [300]);
        Twin("index select dim 1, many duplicates", xs => xs[0].IndexSelect(1, xs[1]), 0, 0, output, inputs: [x, small]);
    }
}
