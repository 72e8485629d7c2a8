using System.Numerics.Tensors;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// The CPU kernels: managed memory from <see cref="CpuMemoryPool"/>, SIMD through
/// System.Numerics.Tensors' <see cref="TensorPrimitives"/>, threads through <see cref="CpuParallel"/>,
/// matrix products through <see cref="Kernels.Sgemm"/>. This file: memory and data movement;
/// the kernels live in the partial files beside it.
/// </summary>
internal sealed partial class CpuBackend : Backend
{
    public static readonly CpuBackend Instance = new();

    /// <summary>Element-wise work below this many elements runs on one thread (waking a thread costs more).</summary>
    internal const long ParallelThreshold = 1 << 16;

    /// <summary>Elements processed per block by kernels that chain several passes (stays in L1).</summary>
    internal const int Block = 2048;

    CpuBackend() { }

    public override Device Device => Device.Cpu;

    public override Storage Allocate(DType dtype, long count, bool zeroed) => new CpuStorage(dtype, count, zeroed);

    internal static CpuStorage S(Tensor t) => (CpuStorage)t.Storage;

    /// <summary>The whole storage of a Float32 tensor (index with the tensor's offset and strides).</summary>
    internal static Span<float> AllFloats(Tensor t) => S(t).Floats;

    /// <summary>The elements of a contiguous Float32 tensor, in order.</summary>
    internal static Span<float> Floats(Tensor t)
    {
        System.Diagnostics.Debug.Assert(t.contiguous, "kernel expects a contiguous tensor");
        return S(t).Floats.Slice((int)t.offset, (int)t.Count);
    }

    /// <summary>The elements of a contiguous Int32 tensor, in order.</summary>
    internal static Span<int> Ints(Tensor t)
    {
        System.Diagnostics.Debug.Assert(t.contiguous, "kernel expects a contiguous tensor");
        return S(t).Ints.Slice((int)t.offset, (int)t.Count);
    }

    public override float ReadElement(Storage storage, long offset)
    {
        var s = (CpuStorage)storage;
        return s.DType switch
        {
            DType.Float32 => s.Floats[(int)offset],
            DType.Int32 => s.Ints[(int)offset],
            _ => HalfConversions.ToFloat(s.Halves[(int)offset], s.DType),
        };
    }

    public override void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        var s = S(destination);
        var o = (int)destination.offset;
        switch (destination.DType)
        {
            case DType.Float32:
                source.CopyTo(s.Floats[o..]);
                break;
            case DType.Int32:
                var ints = s.Ints[o..];
                for (var i = 0; i < source.Length; i++) ints[i] = (int)source[i];
                break;
            default:
                var halves = s.Halves[o..];
                for (var i = 0; i < source.Length; i++) halves[i] = HalfConversions.FromFloat(source[i], destination.DType);
                break;
        }
    }

    public override void Upload(ReadOnlySpan<int> source, Tensor destination)
    {
        var s = S(destination);
        var o = (int)destination.offset;
        if (destination.DType == DType.Int32)
        {
            source.CopyTo(s.Ints[o..]);
            return;
        }
        var floats = new float[source.Length];
        for (var i = 0; i < source.Length; i++) floats[i] = source[i];
        Upload(floats, destination);
    }

    public override void Download(Tensor source, Span<float> destination)
    {
        switch (source.DType)
        {
            case DType.Float32:
                Gather(S(source).Floats, source, destination);
                break;
            case DType.Int32:
                var ints = new int[destination.Length];
                Gather(S(source).Ints, source, ints);
                for (var i = 0; i < ints.Length; i++) destination[i] = ints[i];
                break;
            default:
                var halves = new ushort[destination.Length];
                Gather(S(source).Halves, source, halves);
                for (var i = 0; i < halves.Length; i++) destination[i] = HalfConversions.ToFloat(halves[i], source.DType);
                break;
        }
    }

    public override void Download(Tensor source, Span<int> destination)
    {
        if (source.DType == DType.Int32)
        {
            Gather(S(source).Ints, source, destination);
            return;
        }
        var floats = new float[destination.Length];
        Download(source, floats);
        for (var i = 0; i < floats.Length; i++) destination[i] = (int)floats[i];
    }

    /// <summary>Copies a strided view of <paramref name="storage"/> into a row-major span.</summary>
    static void Gather<T>(Span<T> storage, Tensor view, Span<T> destination) where T : unmanaged
    {
        var n = (int)view.Count;
        if (view.contiguous)
        {
            storage.Slice((int)view.offset, n).CopyTo(destination);
            return;
        }
        var layout = new StridedLayout(view.shape, view);
        var visitor = new GatherRuns<T>(storage, destination, layout.Inner, layout.InnerStride(0));
        layout.ForEachRun(0, layout.Outer, ref visitor);
    }

    ref struct GatherRuns<T>(Span<T> source, Span<T> destination, int inner, int stride) : IRunVisitor where T : unmanaged
    {
        readonly Span<T> source = source;
        readonly Span<T> destination = destination;
        int written;

        public void Visit(scoped ReadOnlySpan<long> offsets)
        {
            var o = (int)offsets[0];
            if (stride == 1) source.Slice(o, inner).CopyTo(destination.Slice(written, inner));
            else
                for (var i = 0; i < inner; i++) destination[written + i] = source[o + i * stride];
            written += inner;
        }
    }

    public override void Copy(Tensor source, Tensor destination)
    {
        if (source.DType == destination.DType)
        {
            switch (source.DType.SizeOf())
            {
                case 4:
                    CopySame(S(source).Ints, source, S(destination).Ints, destination);
                    break;
                default:
                    CopySame(S(source).Halves, source, S(destination).Halves, destination);
                    break;
            }
            return;
        }
        // Converting copies are rare (To(DType), checkpoints): go through a row-major float buffer.
        var values = new float[source.Count];
        Download(source, values);
        if (destination.contiguous)
        {
            Upload(values, destination);
            return;
        }
        var staged = Tensor.Allocate(destination.shape, destination.DType, Device.Cpu);
        Upload(values, staged);
        Copy(staged, destination);
    }

    /// <summary>Same-dtype strided copy, moving raw bits (an Int32 or a NaN payload is never touched by float maths).</summary>
    static void CopySame<T>(Span<T> source, Tensor src, Span<T> destination, Tensor dst) where T : unmanaged
    {
        if (src.contiguous && dst.contiguous)
        {
            var n = (int)src.Count;
            source.Slice((int)src.offset, n).CopyTo(destination.Slice((int)dst.offset, n));
            return;
        }
        var layout = new StridedLayout(dst.shape, dst, src);
        if (src.Count < ParallelThreshold || typeof(T) != typeof(int))
        {
            var visitor = new CopyRuns<T>(source, destination, layout.Inner, layout.InnerStride(0), layout.InnerStride(1));
            layout.ForEachRun(0, layout.Outer, ref visitor);
            return;
        }
        // Large 4-byte copies (a transpose made contiguous): runs split over threads.
        CpuParallel.For(layout.Outer, Math.Max(1, CpuParallel.Grain(src.Count, 4 * Block) / layout.Inner), new CopyBody(layout, src, dst));
    }

    sealed class CopyBody(StridedLayout layout, Tensor src, Tensor dst) : IRangeBody
    {
        public void Run(long start, long end)
        {
            var visitor = new CopyRuns<int>(S(src).Ints, S(dst).Ints, layout.Inner, layout.InnerStride(0), layout.InnerStride(1));
            layout.ForEachRun(start, end, ref visitor);
        }
    }

    ref struct CopyRuns<T>(Span<T> source, Span<T> destination, int inner, int dstStride, int srcStride) : IRunVisitor where T : unmanaged
    {
        readonly Span<T> source = source;
        readonly Span<T> destination = destination;

        public readonly void Visit(scoped ReadOnlySpan<long> offsets)
        {
            int d = (int)offsets[0], s = (int)offsets[1];
            if (dstStride == 1 && srcStride == 1) source.Slice(s, inner).CopyTo(destination.Slice(d, inner));
            else if (dstStride == 1 && srcStride == 0) destination.Slice(d, inner).Fill(source[s]);
            else
                for (var i = 0; i < inner; i++) destination[d + i * dstStride] = source[s + i * srcStride];
        }
    }

    public override void Fill(Tensor destination, float value)
    {
        switch (destination.DType)
        {
            case DType.Float32:
                FillSame(S(destination).Floats, destination, value);
                break;
            case DType.Int32:
                FillSame(S(destination).Ints, destination, (int)value);
                break;
            default:
                FillSame(S(destination).Halves, destination, HalfConversions.FromFloat(value, destination.DType));
                break;
        }
    }

    public override void Generate(Tensor destination, Generator generator, Distribution distribution, float a, float b)
    {
        var values = Floats(destination);
        switch (distribution)
        {
            case Distribution.Uniform: generator.FillUniform(values, a, b); break;
            default: generator.FillGaussian(values, a, b); break;
        }
    }

    static void FillSame<T>(Span<T> storage, Tensor t, T value) where T : unmanaged
    {
        if (t.contiguous)
        {
            storage.Slice((int)t.offset, (int)t.Count).Fill(value);
            return;
        }
        var layout = new StridedLayout(t.shape, t);
        var visitor = new FillRuns<T>(storage, layout.Inner, layout.InnerStride(0), value);
        layout.ForEachRun(0, layout.Outer, ref visitor);
    }

    ref struct FillRuns<T>(Span<T> storage, int inner, int stride, T value) : IRunVisitor where T : unmanaged
    {
        readonly Span<T> storage = storage;

        public readonly void Visit(scoped ReadOnlySpan<long> offsets)
        {
            var o = (int)offsets[0];
            if (stride == 1) storage.Slice(o, inner).Fill(value);
            else
                for (var i = 0; i < inner; i++) storage[o + i * stride] = value;
        }
    }

    public override (bool NaN, bool Infinity) FindNonFinite(Tensor t)
    {
        var c = t.ContiguousData();
        var values = Floats(c);
        var nan = TensorPrimitives.IsNaNAny<float>(values);
        var inf = TensorPrimitives.IsInfinityAny<float>(values);
        return (nan, inf);
    }

    public override double SumOfSquares(Tensor t)
    {
        var c = t.ContiguousData();
        var values = Floats(c);
        // Blocks of float sums added in double: accurate and independent of thread count.
        double total = 0;
        for (var start = 0; start < values.Length; start += Block)
            total += TensorPrimitives.SumOfSquares<float>(values.Slice(start, Math.Min(Block, values.Length - start)));
        return total;
    }
}
