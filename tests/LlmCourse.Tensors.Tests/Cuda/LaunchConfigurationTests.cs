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
}
