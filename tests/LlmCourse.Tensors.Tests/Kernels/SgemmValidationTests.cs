using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Tensors.Tests.Kernels;

/// <summary>Bad arguments are refused before any pointer is taken, with a message naming the operand and sizes.</summary>
public class SgemmValidationTests
{
    [Fact]
    public void Short_spans_are_refused_naming_the_operand()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(false, false, 4, 5, 6, 1f, new float[23], 6, new float[30], 5, 0f, new float[20], 5));
        Assert.Contains("Sgemm.Multiply: A is stored m x k = [4,6]", e.Message);
        Assert.Contains("needs 24 floats, but the span holds 23", e.Message);

        e = Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(false, true, 4, 5, 6, 1f, new float[24], 6, new float[29], 6, 0f, new float[20], 5));
        Assert.Contains("B is stored transB, n x k = [5,6]", e.Message);

        e = Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(false, false, 4, 5, 6, 1f, new float[24], 6, new float[30], 5, 0f, new float[20], 6));
        Assert.Contains("C is stored m x n = [4,5] with leading dimension 6, which needs 23 floats", e.Message);
    }

    [Fact]
    public void Leading_dimensions_shorter_than_a_row_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(true, false, 4, 5, 6, 1f, new float[100], 3, new float[30], 5, 0f, new float[20], 5));
        Assert.Contains("A is stored transA, k x m = [6,4] but its leading dimension 3 is less than 4", e.Message);
    }

    [Fact]
    public void Negative_sizes_and_batch_errors_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Sgemm.Multiply(false, false, -1, 5, 6, 1f, new float[30], 6, new float[30], 5, 0f, new float[20], 5));
        var e = Assert.Throws<ArgumentException>(() =>
            Sgemm.MultiplyBatched(3, false, false, 2, 2, 2, 1f, new float[12], 2, 4, new float[4], 2, 0, 0f, new float[4], 2, 0));
        Assert.Contains("strideC is 0", e.Message);
        e = Assert.Throws<ArgumentException>(() =>
            Sgemm.MultiplyBatched(3, false, false, 2, 2, 2, 1f, new float[11], 2, 4, new float[4], 2, 0, 0f, new float[12], 2, 4));
        Assert.Contains("batch 3 x stride 4, which needs 12 floats, but the span holds 11", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Sgemm.MultiplyBatched(2, false, false, 2, 2, 2, 1f, new float[12], 2, -4, new float[4], 2, 0, 0f, new float[8], 2, 4));
    }

    [Fact]
    public void Empty_operands_need_no_storage()
    {
        Sgemm.Multiply(false, false, 0, 5, 6, 1f, [], 6, new float[30], 5, 0f, [], 5);
        Sgemm.Multiply(false, false, 3, 0, 6, 1f, new float[18], 6, [], 0, 0f, [], 0);
        var c = new[] { float.NaN, float.NaN };
        Sgemm.Multiply(false, false, 1, 2, 0, 1f, [], 0, [], 2, 0f, c, 2);
        Assert.Equal([0f, 0f], c);
    }
}
