using LlmCourse.Tensors.Backends.Cuda;
using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Tests.Cuda;

/// <summary>
/// Every embedded CUDA kernel compiles with NVRTC, on a machine without a GPU: for compute_90 (the
/// H100/H200 the course is verified on) and compute_80 (A100); and every file a GPU older than Ampere loads
/// (all but attention_mma.cu, whose bf16/fp16 mma.sync needs sm_80: such GPUs take the float32 attention
/// kernels) for compute_75 (T4) and compute_70 (V100; NVRTC 13 dropped it, so there the case skips).
/// .ci/run installs Debian's NVRTC 11.8, the oldest NVRTC supported, so a kernel that needs a newer
/// compiler, or a toolkit header, fails CI. Skips (saying why) where libnvrtc is not installed.
/// </summary>
[Trait("Category", "CudaCompile")]
public sealed class KernelCompileTests(ITestOutputHelper output)
{
    public static TheoryData<string, int> Kernels()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in CudaKernelCompiler.Files)
            foreach (var arch in file == "attention_mma.cu" ? new[] { 90, 80 } : [90, 80, 75, 70])
                data.Add(file, arch);
        return data;
    }

    [Fact]
    public void EveryKernelFileIsEmbedded()
    {
        string[] expected = ["adam.cu", "attention.cu", "attention_mma.cu", "elementwise.cu", "indexing.cu", "reduce.cu", "rows.cu"];
        Assert.Equal(expected, CudaKernelCompiler.Files);
        Assert.Contains("struct Layout", CudaKernelCompiler.Source("rows.cu"));
        Assert.DoesNotContain("#include", CudaKernelCompiler.Source("attention.cu"));
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CompilesWithNvrtc(string file, int architecture)
    {
        Assert.SkipUnless(Nvrtc.IsAvailable, $"NVRTC is not installed: {Nvrtc.LoadError}");
        Assert.SkipUnless(Nvrtc.SupportedArchitectures().Contains(architecture),
            $"NVRTC {Nvrtc.Version()} cannot target compute_{architecture}");
        var ptx = CudaKernelCompiler.Ptx(file, architecture, useCache: false);
        var text = System.Text.Encoding.ASCII.GetString(ptx);
        Assert.Contains($".target sm_{architecture}", text);
        Assert.Contains(".entry", text);
        output.WriteLine($"{file} → compute_{architecture}: {ptx.Length} bytes of PTX with {Nvrtc.LibraryName} {Nvrtc.Version()}");
    }

    [Fact]
    public void ACompileErrorNamesTheFileAndLine()
    {
        Assert.SkipUnless(Nvrtc.IsAvailable, $"NVRTC is not installed: {Nvrtc.LoadError}");
        var e = Assert.Throws<CudaException>(() =>
            Nvrtc.CompileToPtx("extern \"C\" __global__ void k() { undefined_thing(); }", "broken.cu", CudaKernelCompiler.Options(80)));
        Assert.Contains("broken.cu", e.Message);
        Assert.Contains("undefined_thing", e.Message);
        Assert.Contains("nvrtcCompileProgram", e.Message);
    }
}

/// <summary>
/// The host structs passed by value to the kernels have the kernels' layout, byte for byte: NVRTC checks
/// the device side's sizes and field offsets against the host's (a static_assert fails the compile).
/// </summary>
[Trait("Category", "CudaCompile")]
public sealed unsafe class KernelArgumentLayoutTests
{
    [Fact]
    public void HostAndDeviceStructsAgree()
    {
        Assert.SkipUnless(Nvrtc.IsAvailable, $"NVRTC is not installed: {Nvrtc.LoadError}");
        var layout = new CudaLayout();
        var attention = new CudaAttentionLayout();
        long Offset(void* field, void* start) => (byte*)field - (byte*)start;
        // NVRTC's front end has no offsetof: it checks the sizes; the host's field offsets are checked
        // against the C layout rules (each field at the next multiple of its alignment) that CUDA follows.
        var checks = $$"""

            static_assert(sizeof(Layout) == {{sizeof(CudaLayout)}}, "Layout size");
            static_assert(sizeof(AttnLayout) == {{sizeof(CudaAttentionLayout)}}, "AttnLayout size");
            """;
        var ptx = Nvrtc.CompileToPtx(CudaKernelCompiler.Source("attention.cu") + checks, "layout_check.cu",
            [.. CudaKernelCompiler.Options(80), "--std=c++14"]);
        Assert.NotEmpty(ptx);
        Assert.Equal(32, Offset(&layout.Rank, &layout));           // after i64 offsets[4]
        Assert.Equal(36, Offset(layout.Shape, &layout));
        Assert.Equal(68, Offset(layout.Strides, &layout));
        Assert.Equal(64, Offset(attention.Ld, &attention));        // after i64 offsets[8]
        Assert.Equal(96, Offset(&attention.Rank, &attention));
        Assert.Equal(100, Offset(attention.Shape, &attention));
        Assert.Equal(124, Offset(attention.Strides, &attention));
        Assert.Equal(200, sizeof(CudaLayout));
        Assert.Equal(320, sizeof(CudaAttentionLayout));
    }

    /// <summary>The deferred checks' error slot: the 16 bytes CudaDeviceAsserts allocates, reads and clears (first at byte 8).</summary>
    [Fact]
    public void TheErrorSlotHasTheBytesTheHostReads()
    {
        Assert.SkipUnless(Nvrtc.IsAvailable, $"NVRTC is not installed: {Nvrtc.LoadError}");
        var checks = $$"""

            static_assert(sizeof(ErrorSlot) == {{CudaDeviceAsserts.SlotBytes}}, "ErrorSlot size");
            static_assert(sizeof(((ErrorSlot*)0)->first) == 8 && alignof(ErrorSlot) == 8, "ErrorSlot.first is the 8 bytes at 8");
            """;
        Assert.NotEmpty(Nvrtc.CompileToPtx(CudaKernelCompiler.Source("indexing.cu") + checks, "slot_check.cu",
            [.. CudaKernelCompiler.Options(80), "--std=c++14"]));
    }

    [Fact]
    public void KernelArgumentsAreWrittenAtTheirAddressesInOrder()
    {
        var args = new KernelArgs();
        args.Add(7);
        args.Add(123456789012L);
        args.Add(2.5f);
        args.Add((ushort)9);
        Assert.Equal(4, args.Count);
        var pointers = stackalloc void*[4];
        args.Pointers(pointers);
        Assert.Equal(7, *(int*)pointers[0]);
        Assert.Equal(123456789012L, *(long*)pointers[1]);
        Assert.Equal(0, (long)pointers[1] % 8);
        Assert.Equal(2.5f, *(float*)pointers[2]);
        Assert.Equal((ushort)9, *(ushort*)pointers[3]);
    }

    [Fact]
    public void AllocatorRoundsSmallRequestsTo512BytesAndLargeTo2MiB()
    {
        Assert.Equal(512, CudaAllocator.RoundSize(1));
        Assert.Equal(1024, CudaAllocator.RoundSize(513));
        Assert.Equal(1 << 20, CudaAllocator.RoundSize(1 << 20));
        Assert.Equal(2 << 20, CudaAllocator.RoundSize((1 << 20) + 1));
        Assert.Equal(4 << 20, CudaAllocator.RoundSize((2 << 20) + 1));
    }

    [Fact]
    public void WithoutAGpuTheCudaDeviceFailsNamingTheReason()
    {
        Assert.SkipWhen(Device.IsCudaAvailable, "a GPU is present");
        var e = Assert.Throws<InvalidOperationException>(() => Tensor.Zeros([2], DType.Float32, Device.Cuda()));
        Assert.Contains("cuda:0", e.Message);
        Assert.Contains("libcuda", e.Message);
        Assert.False(Tensors.Cuda.IsAvailable);
        Assert.Equal(0, Tensors.Cuda.DeviceCount);
    }
}
