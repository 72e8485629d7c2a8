namespace LlmCourse.Tensors;

/// <summary>Creating tensors: constants, ranges, copies of arrays, seeded random values.</summary>
public sealed partial class Tensor
{
    static int[] CheckShape(int[] shape, string op)
    {
        foreach (var d in shape)
            if (d < 0) throw new TensorShapeException($"{op}: negative dimension in shape {Shapes.Format(shape)}");
        return (int[])shape.Clone();
    }

    public static Tensor Empty(params int[] shape) => Empty(shape, DType.Float32, null);

    public static Tensor Empty(int[] shape, DType dtype, Device? device = null) =>
        Allocate(CheckShape(shape, "Empty"), dtype, device ?? Device.Default);

    public static Tensor Zeros(params int[] shape) => Zeros(shape, DType.Float32, null);

    public static Tensor Zeros(int[] shape, DType dtype, Device? device = null) =>
        Allocate(CheckShape(shape, "Zeros"), dtype, device ?? Device.Default, zeroed: true);

    public static Tensor Ones(params int[] shape) => Full(shape, 1f);

    public static Tensor Ones(int[] shape, DType dtype, Device? device = null) => Full(shape, 1f, dtype, device);

    public static Tensor Full(int[] shape, float value, Device? device = null) => Full(shape, value, DType.Float32, device);

    public static Tensor Full(int[] shape, float value, DType dtype, Device? device = null)
    {
        var t = Allocate(CheckShape(shape, "Full"), dtype, device ?? Device.Default);
        t.Backend.Fill(t, value);
        return t;
    }

    internal static Tensor OnesOn(int[] shape, Device device) => Full(shape, 1f, DType.Float32, device);

    public static Tensor ZerosLike(Tensor t) => Zeros(t.shape, t.DType, t.Device);

    public static Tensor OnesLike(Tensor t) => Full(t.shape, 1f, t.DType, t.Device);

    public static Tensor FullLike(Tensor t, float value) => Full(t.shape, value, t.DType, t.Device);

    /// <summary>A copy of <paramref name="data"/> with the given shape (1-D when no shape is given).</summary>
    public static Tensor FromArray(float[] data, params int[] shape) => FromSpan<float>(data, shape, DType.Float32, null);

    /// <summary>An Int32 tensor (token ids, targets, indices) copied from <paramref name="data"/>.</summary>
    public static Tensor FromArray(int[] data, params int[] shape) => FromSpan<int>(data, shape, DType.Int32, null);

    public static Tensor FromArray(float[] data, int[] shape, Device? device) => FromSpan<float>(data, shape, DType.Float32, device);

    public static Tensor FromArray(int[] data, int[] shape, Device? device) => FromSpan<int>(data, shape, DType.Int32, device);

    /// <summary>A 2-D tensor from a rectangular array (rows, columns).</summary>
    public static Tensor FromArray(float[,] data)
    {
        var flat = new float[data.Length];
        var i = 0;
        foreach (var v in data) flat[i++] = v;
        return FromArray(flat, data.GetLength(0), data.GetLength(1));
    }

    static Tensor FromSpan<T>(ReadOnlySpan<T> data, int[] shape, DType dtype, Device? device) where T : unmanaged
    {
        if (shape.Length == 0) shape = [data.Length];
        shape = CheckShape(shape, "FromArray");
        if (Shapes.Count(shape) != data.Length)
            throw new TensorShapeException($"FromArray: {data.Length} values cannot fill shape {Shapes.Format(shape)} ({Shapes.Count(shape)} elements)");
        var t = Allocate(shape, dtype, device ?? Device.Default);
        if (typeof(T) == typeof(float)) t.Backend.Upload(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(data), t);
        else t.Backend.Upload(System.Runtime.InteropServices.MemoryMarshal.Cast<T, int>(data), t);
        return t;
    }

    /// <summary>A 0-d tensor holding one value.</summary>
    public static Tensor Scalar(float value, Device? device = null)
    {
        var t = Allocate([], DType.Float32, device ?? Device.Default);
        t.Backend.Fill(t, value);
        return t;
    }

    /// <summary>0, 1, ..., end-1 as Int32 (integer arguments give integers, like PyTorch): positions, indices.</summary>
    public static Tensor Arange(int end) => Arange(0, end, 1);

    /// <summary>start, start+step, ... below end, as Int32.</summary>
    public static Tensor Arange(int start, int end, int step = 1, Device? device = null)
    {
        if (step == 0) throw new TensorShapeException("Arange: step must be nonzero");
        var count = Math.Max(0, (int)Math.Ceiling((end - (double)start) / step));
        var values = new int[count];
        for (var i = 0; i < count; i++) values[i] = start + i * step;
        return FromArray(values, [count], device);
    }

    /// <summary>start, start+step, ... below end, as Float32 (PyTorch computes start + i*step, so do we).</summary>
    public static Tensor Arange(float start, float end, float step = 1, Device? device = null)
    {
        if (step == 0) throw new TensorShapeException("Arange: step must be nonzero");
        var count = Math.Max(0, (int)Math.Ceiling((end - (double)start) / step));
        var values = new float[count];
        for (var i = 0; i < count; i++) values[i] = (float)(start + i * (double)step);
        return FromArray(values, [count], device);
    }

    /// <summary><paramref name="steps"/> evenly spaced values from start to end inclusive (PyTorch's symmetric formula).</summary>
    public static Tensor Linspace(float start, float end, int steps, Device? device = null)
    {
        if (steps < 0) throw new TensorShapeException($"Linspace: number of steps must be non-negative, got {steps}");
        var values = new float[steps];
        if (steps == 1) values[0] = start;
        else if (steps > 1)
        {
            var step = (end - start) / (steps - 1);
            var half = steps / 2;
            for (var i = 0; i < steps; i++)
                values[i] = i < half ? start + step * i : end - step * (steps - i - 1);
        }
        return FromArray(values, [steps], device);
    }

    /// <summary>Standard normal samples from <paramref name="generator"/> (default: <see cref="Generator.Default"/>).</summary>
    public static Tensor Randn(int[] shape, Generator? generator = null, Device? device = null)
    {
        return Random(CheckShape(shape, "Randn"), Backends.Distribution.Normal, 0f, 1f, generator, device);
    }

    public static Tensor Randn(params int[] shape) => Randn(shape, null, null);

    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor Rand(int[] shape, Generator? generator = null, Device? device = null)
    {
        return Random(CheckShape(shape, "Rand"), Backends.Distribution.Uniform, 0f, 1f, generator, device);
    }

    public static Tensor Rand(params int[] shape) => Rand(shape, null, null);

    internal static Tensor Random(int[] shape, Backends.Distribution distribution, float a, float b, Generator? generator, Device? device)
    {
        var t = Allocate(shape, DType.Float32, device ?? Device.Default);
        t.Backend.Generate(t, generator ?? Generator.Default, distribution, a, b);
        return t;
    }

    /// <summary>Uniform Int32 values in [low, high).</summary>
    public static Tensor RandInt(int low, int high, int[] shape, Generator? generator = null, Device? device = null)
    {
        if (high <= low) throw new TensorShapeException($"RandInt: high ({high}) must be greater than low ({low})");
        shape = CheckShape(shape, "RandInt");
        var g = generator ?? Generator.Default;
        var values = new int[Shapes.Count(shape)];
        for (var i = 0; i < values.Length; i++) values[i] = low + g.NextInt(high - low);
        return FromArray(values, shape, device);
    }

    /// <summary>Identity matrix [n, m] (m defaults to n).</summary>
    public static Tensor Eye(int n, int? m = null, Device? device = null)
    {
        var cols = m ?? n;
        var values = new float[n * cols];
        for (var i = 0; i < Math.Min(n, cols); i++) values[i * cols + i] = 1f;
        return FromArray(values, [n, cols], device);
    }

    /// <summary>Reseeds <see cref="Generator.Default"/> (PyTorch's <c>torch.manual_seed</c>).</summary>
    public static void ManualSeed(ulong seed) => Generator.Default.Seed(seed);
}
