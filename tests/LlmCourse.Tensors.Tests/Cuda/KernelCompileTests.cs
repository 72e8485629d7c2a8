using LlmCourse.Tensors.Backends.Cuda;

namespace LlmCourse.Tensors.Tests.Cuda;

/// <summary>
/// Every embedded CUDA kernel compiles with NVRTC, on a machine without a GPU: for compute_90 (the
/// H100/H200 the course is verified on) and compute_80 (A100, the oldest architecture targeted).
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
            foreach (var arch in new[] { 90, 80 })
                data.Add(file, arch);
        return data;
    }

    [Fact]
    public void EveryKernelFileIsEmbedded()
    {
        string[] expected = ["adam.cu", "attention.cu", "elementwise.cu", "indexing.cu", "reduce.cu", "rows.cu"];
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
