using System.Runtime.InteropServices;
using LlmCourse.Tensors.Backends.Cuda;
using static LlmCourse.Tensors.Tests.Cuda.Gpu;

namespace LlmCourse.Tensors.Tests.Cuda;

/// <summary>
/// Uploads go through pinned staging buffers (<see cref="CudaHostStaging"/>): queued without a host wait, the
/// caller's array free to reuse at once, and no buffer rewritten before the GPU has read it. On the emulated GPU a
/// copy from pinned memory runs only at the stream's next operation (as the DMA would, later), so a buffer reused
/// too early shows as wrong data. Skips without a GPU.
/// </summary>
[Trait("Category", "Cuda")]
[Collection(Gpu.Collection)]
public sealed unsafe class UploadStagingTests(ITestOutputHelper output)
{
    static CudaDevice Dev => CudaBackend.For(0).Gpu;

    static bool Emulated => Dev.Name.StartsWith("SIMT emulator", StringComparison.Ordinal);

    /// <summary>
    /// Uploads <paramref name="count"/> batches in a row from one host array, rewritten after each upload (as a
    /// data loader reuses its buffer), with nothing else queued between them; returns the host waits they took,
    /// then checks every batch that arrived.
    /// </summary>
    static long UploadInARow(int count, int length)
    {
        Tensors.Cuda.Synchronize();
        var host = new int[length];
        var uploaded = new Tensor[count];
        var waits = Dev.HostWaits;
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < length; j++) host[j] = i * 1_000_003 + j;
            uploaded[i] = Tensor.FromArray(host, [length], Gpu.Device);
        }
        var taken = Dev.HostWaits - waits;
        for (var i = 0; i < count; i++)
        {
            var back = uploaded[i].ToInt32Array();
            for (var j = 0; j < length; j++)
                if (back[j] != i * 1_000_003 + j)
                    Assert.Fail($"upload {i} of {count}: element {j} is {back[j]}, expected {i * 1_000_003 + j} (a staging buffer was rewritten before the GPU read it)");
        }
        return taken;
    }

    [Fact]
    public void BatchesUploadedInARowArriveIntactWithoutAHostWait()
    {
        Require();
        var staged = Dev.Staging.StagedCopies;
        // A step's uploads: a batch of inputs, one of targets (64 × 256 token ids), and a few small ones.
        Assert.Equal(0, UploadInARow(4, 64 * 256));
        Assert.Equal(0, UploadInARow(8, 3));
        Assert.Equal(12, Dev.Staging.StagedCopies - staged);
        Assert.InRange(Dev.Staging.Slots, 4, CudaHostStaging.MaxSlots);
    }

    [Fact]
    public void MoreUploadsInARowThanBuffersWaitForTheOldestAndArriveIntact()
    {
        Require();
        const int count = 3 * CudaHostStaging.MaxSlots;
        var waits = UploadInARow(count, 5_000);
        output.WriteLine($"{count} uploads in a row, {CudaHostStaging.MaxSlots} buffers: {waits} host waits");
        Assert.InRange(waits, 0, count - CudaHostStaging.MaxSlots);
        // On the emulated GPU no copy lands before the stream's next operation, so the ring must have waited.
        if (Emulated) Assert.InRange(waits, 1, count - CudaHostStaging.MaxSlots);
        Assert.Equal(CudaHostStaging.MaxSlots, Dev.Staging.Slots);
    }

    [Fact]
    public void AnUploadLargerThanEveryFreeBufferReplacesOneWithoutWaiting()
    {
        Require();
        UploadInARow(CudaHostStaging.MaxSlots, 1_000);   // every buffer small (on the emulated GPU, all 16 of them)
        // 1.2 MB fits none of them; once the GPU has read them they are all free, so one is replaced: no host wait.
        Assert.Equal(0, UploadInARow(1, 300_000));
    }

    [Fact]
    public void AnUploadTooLargeToStageGoesThePageableWayAndArrivesIntact()
    {
        Require();
        var pageable = Dev.Staging.PageableCopies;
        var length = (int)(CudaHostStaging.MaxStagedBytes / sizeof(float)) + 1;
        var values = Tensor.Randn([length], new Generator(5)).ToArray();
        var onGpu = Tensor.FromArray(values, [length], Gpu.Device);
        Array.Clear(values);   // the caller's array is free as soon as the upload returns
        var expected = Tensor.Randn([length], new Generator(5)).ToArray();
        Assert.Equal(expected, onGpu.ToArray());
        Assert.Equal(pageable + 1, Dev.Staging.PageableCopies);
    }

    [Fact]
    public void AStagedUploadIsOrderedWithTheKernelsAroundIt()
    {
        Require();
        // Kernel, upload into the tensor the kernel reads next, kernel: each sees the data of its turn.
        var x = Tensor.FromArray([1f, 2f, 3f], [3], Gpu.Device);
        var before = x * 10f;
        x.Backend.Upload(new[] { 7f, 8f, 9f }, x);
        var after = x * 10f;
        Assert.Equal([10f, 20f, 30f], before.ToArray());
        Assert.Equal([70f, 80f, 90f], after.ToArray());
    }

    /// <summary>
    /// A machine may refuse page-locked memory (a container's low memlock limit): uploads then go the pageable way,
    /// or through the buffers that were granted, and arrive intact either way. Needs the emulated GPU, which can be
    /// told to refuse (<c>simt_cuda_limit_pinned</c>); a real one cannot.
    /// </summary>
    [Fact]
    public void WhenPinnedMemoryIsRefusedUploadsStillArriveIntact()
    {
        Require();
        var limitPinned = EmulatorPinnedLimit();
        var destination = Tensor.Zeros([6, 1_000], DType.Int32, Gpu.Device);
        var address = ((CudaStorage)destination.Storage).Pointer;
        var host = new int[1_000];

        // Uploads each row from one host array, rewritten after each upload, nothing else queued between them.
        void UploadRows(CudaHostStaging staging)
        {
            for (var i = 0; i < 6; i++)
            {
                for (var j = 0; j < host.Length; j++) host[j] = i * 1_000_003 + j;
                staging.Copy(MemoryMarshal.AsBytes(host.AsSpan()), address + (ulong)(i * host.Length * sizeof(int)));
            }
            var back = destination.ToInt32Array();
            for (var i = 0; i < back.Length; i++)
                Assert.True(back[i] == i / 1_000 * 1_000_003 + i % 1_000, $"element {i} is {back[i]}, expected {i / 1_000 * 1_000_003 + i % 1_000}");
        }

        try
        {
            Tensors.Cuda.Synchronize();
            limitPinned(0);   // none granted: every upload goes the pageable way
            var refused = new CudaHostStaging(Dev);
            var waits = Dev.HostWaits;
            UploadRows(refused);
            Assert.Equal((0, 0L, 6L), (refused.Slots, refused.StagedCopies, refused.PageableCopies));

            Tensors.Cuda.Synchronize();
            Assert.True(limitPinned(2) >= 1);   // two buffers granted, then refused
            var two = new CudaHostStaging(Dev);
            waits = Dev.HostWaits;
            UploadRows(two);
            // All six through the two buffers; with both still in flight an upload waits for the older one.
            Assert.Equal((2, 6L, 0L), (two.Slots, two.StagedCopies, two.PageableCopies));
            Assert.InRange(Dev.HostWaits - waits, 1, 4);
            // Asked once, refused once: it makes do with the buffers it has and does not ask on every upload.
            Assert.Equal(1, limitPinned(-1));
            UploadRows(two);
            Assert.Equal(2, two.Slots);
        }
        finally
        {
            limitPinned(-1);
        }
    }

    /// <summary>The emulated GPU's <c>simt_cuda_limit_pinned</c> hook; skips the test on a real GPU.</summary>
    static Func<long, long> EmulatorPinnedLimit()
    {
        Assert.SkipUnless(Emulated, "a real GPU cannot be told to refuse page-locked memory (the emulated GPU in CI can)");
        var library = NativeLibrary.Load("libcuda.so.1");   // the emulator, already loaded by the backend
        var hook = NativeLibrary.GetExport(library, "simt_cuda_limit_pinned");
        return grants => ((delegate* unmanaged<long, long>)hook)(grants);
    }
}
