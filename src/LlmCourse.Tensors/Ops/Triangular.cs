namespace LlmCourse.Tensors;

/// <summary>Lower/upper triangles of the last two dims (causal masks): a select against a constant 0/1 mask
/// (a select, not a multiply, so an infinity outside the triangle becomes 0 rather than NaN).</summary>
public sealed partial class Tensor
{
    /// <summary>Keeps elements with column - row &lt;= <paramref name="diagonal"/>, zeroes the rest.</summary>
    public Tensor Tril(int diagonal = 0) => Where(TriangleMask(lower: true, diagonal, "Tril"), this, 0f);

    /// <summary>Keeps elements with column - row &gt;= <paramref name="diagonal"/>, zeroes the rest.</summary>
    public Tensor Triu(int diagonal = 0) => Where(TriangleMask(lower: false, diagonal, "Triu"), this, 0f);

    Tensor TriangleMask(bool lower, int diagonal, string op)
    {
        if (Rank < 2) throw new TensorShapeException($"{op}: input must have at least 2 dims, got shape {Shapes.Format(shape)}");
        return CausalMask(shape[^2], shape[^1], lower, diagonal, Device);
    }

    /// <summary>A [rows, cols] 0/1 Float32 mask: 1 where column - row &lt;= diagonal (lower) or &gt;= diagonal (upper).</summary>
    internal static Tensor CausalMask(int rows, int cols, bool lower, int diagonal, Device device)
    {
        var values = new float[rows * cols];
        for (var i = 0; i < rows; i++)
            for (var j = 0; j < cols; j++)
                values[i * cols + j] = (lower ? j - i <= diagonal : j - i >= diagonal) ? 1f : 0f;
        return FromArray(values, [rows, cols], device);
    }
}
