using System.Text;

namespace LlmCourse.Tensors;

/// <summary>Shape arithmetic shared by every op: element counts, strides, dims, broadcasting, formatting.</summary>
internal static class Shapes
{
    public static long Count(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    /// <summary>Row-major strides, in elements.</summary>
    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        var s = 1;
        for (var i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    public static bool IsContiguous(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        long expected = 1;
        for (var i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] == 1) continue; // a size-1 dim may have any stride
            if (strides[i] != expected) return shape[i] == 0;
            expected *= shape[i];
        }
        return true;
    }

    /// <summary>Python-style dim: -1 is the last. Throws naming the op when out of range.</summary>
    public static int Dim(int dim, int rank, string op)
    {
        var r = Math.Max(rank, 1); // PyTorch lets a 0-d tensor take dim 0 / -1
        if (dim < -r || dim >= r)
            throw new TensorShapeException($"{op}: dim {dim} out of range for a tensor of rank {rank}");
        return dim < 0 ? dim + r : dim;
    }

    public static string Format(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("[");
        for (var i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(shape[i]);
        }
        return sb.Append(']').ToString();
    }

    /// <summary>NumPy/PyTorch broadcasting: align from the right; each pair equal or one of them 1.</summary>
    public static int[] Broadcast(int[] a, int[] b, string op)
    {
        if (a.AsSpan().SequenceEqual(b)) return a;
        var rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            var db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new TensorShapeException($"{op}: shapes {Format(a)} and {Format(b)} cannot broadcast");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    public static int[] Broadcast(int[] a, int[] b, int[] c, string op)
    {
        try
        {
            return Broadcast(Broadcast(a, b, op), c, op);
        }
        catch (TensorShapeException)
        {
            throw new TensorShapeException($"{op}: shapes {Format(a)}, {Format(b)} and {Format(c)} cannot broadcast");
        }
    }

    /// <summary>Resolves one -1 in a requested shape against an element count.</summary>
    public static int[] Infer(int[] requested, long count, string op, int[] from)
    {
        var shape = (int[])requested.Clone();
        var inferred = -1;
        long known = 1;
        for (var i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (inferred >= 0) throw new TensorShapeException($"{op}: only one dimension can be -1, got {Format(requested)}");
                inferred = i;
            }
            else if (shape[i] < 0) throw new TensorShapeException($"{op}: invalid size {shape[i]} in {Format(requested)}");
            else known *= shape[i];
        }
        if (inferred >= 0)
        {
            if (known == 0 || count % known != 0)
                throw new TensorShapeException($"{op}: shape {Format(requested)} is invalid for input {Format(from)} of size {count}");
            shape[inferred] = (int)(count / known);
        }
        else if (known != count)
            throw new TensorShapeException($"{op}: shape {Format(requested)} is invalid for input {Format(from)} of size {count}");
        return shape;
    }

    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);
}
