using LlmCourse.Tensors.Backends.Cuda;

namespace LlmCourse.Tensors.Tests.Cuda;

/// <summary>
/// Host-side launch configurations and kernel layouts that can be checked without a GPU: grids within
/// cuLaunchKernel's limits (x up to 2^31 - 1, y and z up to 65535) and the layouts the index kernels walk.
/// </summary>
[Trait("Category", "CudaCompile")]
public sealed unsafe class LaunchConfigurationTests
{
    const uint GridYLimit = 65535;

    [Theory]
    [InlineData(1, 1)]
    [InlineData(16 * 1024, 768)]             // GPT-2 small: B*T rows of C features
    [InlineData(4 * 1024 * 1024, 64)]        // 131072 chunks of 32 rows: more than grid y allows
    [InlineData(33, 50304)]
    public void LayerNormParameterGradientGridCoversEveryChunkAndColumnWithinTheLimits(int rows, int n)
    {
        var (x, y) = CudaBackend.NormParamGradsGrid(rows, n);
        Assert.True(y <= GridYLimit, $"grid y {y} exceeds {GridYLimit}");
        Assert.True(x >= 1 && y >= 1);
        Assert.True((long)x * 32 >= rows && (long)(x - 1) * 32 < rows, $"{x} chunks of 32 for {rows} rows");
        Assert.True((long)y * CudaDevice.Threads >= n && (long)(y - 1) * CudaDevice.Threads < n, $"{y} column blocks for {n} columns");
    }

    [Fact]
    public void ScatterAddOnAScalarSeesOneElementOfExtentOne()
    {
        // Gather on a 0-d tensor (Max or TopK of a scalar) scatters its gradient back through a 0-d index:
        // the kernel reads the index's extent along dim 0, which must be 1, not 0 (no gradient at all).
        var scalar = CudaBackend.ScatterLayout([], []);
        Assert.Equal(1, scalar.Rank);
        Assert.Equal(1, scalar.Shape[0]);
        Assert.Equal(1, scalar.Strides[1 * CudaLayout.MaxDims + 0]);   // index extent
        Assert.Equal(1, scalar.Strides[2 * CudaLayout.MaxDims + 0]);   // index stride

        var matrix = CudaBackend.ScatterLayout([4, 20], [4, 5]);
        Assert.Equal(2, matrix.Rank);
        Assert.Equal([4, 20], new[] { matrix.Shape[0], matrix.Shape[1] });
        Assert.Equal([4, 5], new[] { matrix.Strides[CudaLayout.MaxDims], matrix.Strides[CudaLayout.MaxDims + 1] });
        Assert.Equal([5, 1], new[] { matrix.Strides[2 * CudaLayout.MaxDims], matrix.Strides[2 * CudaLayout.MaxDims + 1] });
    }

    [Theory]
    [InlineData(DType.Float32, 64, 64, 90, null)]
    [InlineData(DType.BFloat16, 64, 64, 90, "bf16_64")]
    [InlineData(DType.BFloat16, 16, 16, 80, "bf16_64")]
    [InlineData(DType.BFloat16, 96, 64, 90, "bf16_128")]
    [InlineData(DType.Float16, 128, 128, 90, "f16_128")]
    [InlineData(DType.BFloat16, 64, 64, 75, null)]   // a T4: no bf16 mma.m16n8k16, the float32 kernels
    public void AutocastAttentionTakesTheTensorCoreKernelOfItsHeadSize(DType precision, int d, int dv, int capability, string? name)
    {
        var kernel = CudaBackend.TensorCoreKernel(precision, d, dv, capability);
        Assert.Equal(name, kernel?.Name);
        if (kernel is not { } k) return;
        Assert.True(k.Head >= Math.Max(d, dv) && k.Head % 16 == 0);
        Assert.True(k.Shared(2 * k.Tile) <= 48 * 1024, $"{k.Shared(2 * k.Tile)} bytes of shared memory");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1024, 16 * 12)]
    [InlineData(77, 65535)]
    [InlineData(3, 65541)]
    [InlineData(1, 200_000)]
    public void TensorCoreAttentionGridCoversEveryRowBlockAndMatrix(int rows, int batch)
    {
        var (x, y, z) = CudaBackend.MmaGrid(rows, batch);
        Assert.True(y <= GridYLimit && z <= GridYLimit);
        Assert.Equal((rows + 63) / 64, (int)x);
        Assert.True((long)y * z >= batch && (long)y * (z - 1) < batch, $"{y} x {z} for {batch} matrices");
    }
}
