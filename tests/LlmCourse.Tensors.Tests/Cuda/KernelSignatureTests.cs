using System.Text.RegularExpressions;
using LlmCourse.Tensors.Backends.Cuda;
using LlmCourse.Tensors.Backends.Cuda.Native;
using static LlmCourse.Tensors.Backends.Cuda.CudaKernelSignature;

namespace LlmCourse.Tensors.Tests.Cuda;

/// <summary>
/// Each launch's packed arguments are checked against the kernel's parameter list read from its PTX
/// (cuLaunchKernel itself checks nothing). Here, without a GPU: the PTX parser finds every kernel of every
/// file with the parameter kinds and sizes its .cu signature declares (written out by hand below), and
/// a launch packed with the wrong C# type is refused with a message naming the kernel.
/// </summary>
[Trait("Category", "CudaCompile")]
public sealed class KernelSignatureTests
{
    static readonly int U32 = Code(Integer, 4), U64 = Code(Integer, 8), F32 = Code(Float, 4);

    static Dictionary<string, int[]> Compiled(string file)
    {
        Assert.SkipUnless(Nvrtc.IsAvailable, $"NVRTC is not installed: {Nvrtc.LoadError}");
        var ptx = CudaKernelCompiler.Ptx(file, Nvrtc.SupportedArchitectures().Contains(90) ? 90 : 80, useCache: false);
        return Parse(System.Text.Encoding.ASCII.GetString(ptx));
    }

    public static TheoryData<string> Files() => [.. CudaKernelCompiler.Files];

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryKernelOfTheSourceIsFoundInItsPtx(string file)
    {
        var kernels = Compiled(file);
        var declared = Regex.Matches(CudaKernelCompiler.Source(file), @"__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?(\w+)\s*\(").Select(m => m.Groups[1].Value).ToArray();
        Assert.NotEmpty(declared);
        Assert.Equal(declared.Order(StringComparer.Ordinal), kernels.Keys.Order(StringComparer.Ordinal));
        Assert.All(kernels, k => Assert.NotEmpty(k.Value));
    }

    [Fact]
    public void ParametersHaveTheKindsAndSizesOfTheCudaSignatures()
    {
        // copy_strided(Layout L, void* dst, int dstType, const void* src, int srcType, i64 n); Layout is 200 bytes.
        Assert.Equal([Code(Blob, 200), U64, U32, U64, U32, U64], Compiled("elementwise.cu")["copy_strided"]);
        // adam_step(float* p, const float* g, float* m, float* v, i64 n, nine floats, int decoupled)
        Assert.Equal([U64, U64, U64, U64, U64, F32, F32, F32, F32, F32, F32, F32, F32, F32, U32], Compiled("adam.cu")["adam_step"]);
        // attention_forward(AttnLayout L (320 bytes), q, k, v, out, lse, int T, S, D, Dv, causal, float scale, dropoutP, u64 seed)
        Assert.Equal([Code(Blob, 320), U64, U64, U64, U64, U64, U32, U32, U32, U32, U32, F32, F32, U64],
            Compiled("attention.cu")["attention_forward"]);
        // the tensor-core forward: the same, then i64 batch and int held (which blocks hold 16-bit values)
        Assert.Equal([Code(Blob, 320), U64, U64, U64, U64, U64, U32, U32, U32, U32, U32, F32, F32, U64, U64, U32],
            Compiled("attention_mma.cu")["attention_forward_mma_bf16_64"]);
    }

    /// <summary>
    /// The deferred check and IndexAdd's device grouping (indexing.cu), packed as CudaBackend.Indexing.cs packs
    /// them: pointers and the slot address as ulong, the check's element count as a long, sizes and ids as int.
    /// </summary>
    [Fact]
    public void TheIndexKernelsTakeWhatTheirLaunchersPack()
    {
        var kernels = Compiled("indexing.cu");
        var check = new KernelArgs();
        check.Add(0UL);        // ids
        check.Add(6L);         // indices.Count
        check.Add(65);         // size
        check.Add(0);          // allowed ?? 0
        check.Add(1);          // allowed.HasValue
        check.Add(0UL);        // the error slot
        check.Add(1);          // launch
        check.Add(1);          // check
        Check("check_indices", kernels["check_indices"], check.Codes);
        Assert.Equal([U64, U32, U32, U64], kernels["index_histogram"]);
        Assert.Equal([U64, U32, U64], kernels["exclusive_scan_block"]);
        Assert.Equal([U64, U32, U32, U64, U64, U64], kernels["index_bucket"]);
        Assert.Equal([U64, U32, U32, U64, U64, U64], kernels["index_rank"]);
        Assert.Equal([U64, U64, U64, U32, U32, U32, U32, U64], kernels["index_add_sorted"]);
        // gather_dim(Layout, x, dim, size, index, y, n): size is x's extent along dim, for the bounds guard.
        Assert.Equal([Code(Blob, 200), U64, U32, U32, U64, U64, U64], kernels["gather_dim"]);
        Assert.False(kernels.ContainsKey("index_add_grouped"));   // the host-grouped add is gone
        Assert.False(Compiled("reduce.cu").ContainsKey("index_range"));
        Assert.False(Compiled("rows.cu").ContainsKey("check_targets"));
    }

    [Fact]
    public void PointerAttributesOfNewerCompilersAreReadAndAnUnknownFormIsLeftUnchecked()
    {
        // CUDA 12+ compilers may write a pointer parameter's state space and alignment after its type.
        const string ptx = """
            .visible .entry k(
            	.param .u64 .ptr .global .align 4 k_param_0,
            	.param .align 8 .b8 k_param_1[320],
            	.param .f32 k_param_2,
            	.param .s32 k_param_3
            )
            { ret; }
            .visible .entry odd(
            	.param .v2 .pred odd_param_0
            )
            { ret; }
            """;
        var kernels = Parse(ptx);
        Assert.Equal([U64, Code(Blob, 320), F32, U32], kernels["k"]);
        Assert.False(kernels.ContainsKey("odd"));
    }

    [Fact]
    public void ALaunchPackedLikeTheBackendMatchesAndAWrongTypeIsRefused()
    {
        var expected = Compiled("elementwise.cu")["copy_strided"];
        // As CudaBackend.Copy packs it.
        var args = new KernelArgs();
        args.Add(new CudaLayout());
        args.Add(0UL);
        args.Add((int)DType.Float32);
        args.Add(0UL);
        args.Add((int)DType.BFloat16);
        args.Add(12L);
        Check("copy_strided", expected, args.Codes);

        // The element count as an int where the kernel takes a long long: the driver would read 4 bytes past it.
        var wrong = new KernelArgs();
        wrong.Add(new CudaLayout());
        wrong.Add(0UL);
        wrong.Add((int)DType.Float32);
        wrong.Add(0UL);
        wrong.Add((int)DType.BFloat16);
        wrong.Add(12);
        var wrongCodes = wrong.Codes.ToArray();
        var e = Assert.Throws<CudaException>(() => Check("copy_strided", expected, wrongCodes));
        Assert.Contains("copy_strided", e.Message);
        Assert.Contains("u32", e.Message);

        // A float where the kernel takes an int: same size, different kind.
        var swapped = new KernelArgs();
        swapped.Add(new CudaLayout());
        swapped.Add(0UL);
        swapped.Add(0f);
        swapped.Add(0UL);
        swapped.Add((int)DType.BFloat16);
        swapped.Add(12L);
        var swappedCodes = swapped.Codes.ToArray();
        Assert.Throws<CudaException>(() => Check("copy_strided", expected, swappedCodes));
    }
}
