using LlmCourse.Tensors.Backends.Cpu;
using System.Runtime.InteropServices;
using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// The CUDA kernels: device memory from a caching allocator, element-wise and row kernels compiled by
/// NVRTC from <c>Cuda/Kernels/*.cu</c>, matrix products through cuBLAS, everything queued on one stream
/// per device. Host reads (Item, ToArray) wait for the stream. The CPU backend is the reference every
/// kernel is tested against (tests/LlmCourse.Tensors.Tests/Cuda). This file: memory and data movement;
/// the kernels' launchers live in the partial files beside it, named as the CPU backend's.
/// </summary>
internal sealed unsafe partial class CudaBackend : Backend
{
    static readonly Lock gate = new();
    static readonly Dictionary<int, CudaBackend> backends = [];

    readonly Device device;

    CudaBackend(Device device, CudaDevice gpu)
    {
        this.device = device;
        Gpu = gpu;
    }

    /// <summary>The backend of GPU <paramref name="ordinal"/>, created (context, stream, allocator) on first use.</summary>
    public static CudaBackend For(int ordinal)
    {
        lock (gate)
        {
            if (backends.TryGetValue(ordinal, out var backend)) return backend;
            if (CudaDriver.DeviceCount() == 0)
                throw new InvalidOperationException(
                    $"Device cuda:{ordinal}: CUDA is not available on this machine: {CudaDriver.Unavailability()} Use Device.Cpu.");
            return backends[ordinal] = new CudaBackend(Tensors.Device.Cuda(ordinal), new CudaDevice(ordinal));
        }
    }

    public override Device Device => device;

    /// <summary>The GPU (context, stream, allocator, kernels).</summary>
    internal CudaDevice Gpu { get; }

    CudaDevice Dev => Gpu;

    public override void Synchronize() => Dev.Synchronize();

    public override Storage Allocate(DType dtype, long count, bool zeroed) => new CudaStorage(device, Gpu, dtype, count, zeroed);

    static CudaStorage S(Tensor t) => (CudaStorage)t.Storage;

    /// <summary>Device address of a tensor's first element (its offset applied), as its dtype (a storage held in 16 bits is widened).</summary>
    static ulong P(Tensor t) => S(t).Pointer + (ulong)(t.offset * t.DType.SizeOf());

    /// <summary>
    /// An input for a kernel that reads it with <c>load_as_float</c>: element 0 of its storage as the block holds it, then
    /// that format, so a Float32 storage held in 16 bits (<see cref="CudaStorage.HeldAs"/>) is read as it is, not
    /// widened. Add a kernel's outputs (<see cref="Base"/>) before its inputs: writing in place into a held storage
    /// widens it, and an input over the same storage then reads the float32 block.
    /// </summary>
    static void AddInput(ref KernelArgs args, Tensor t)
    {
        var s = S(t);
        args.Add(s.HeldPointer);
        args.Add((int)s.HeldAs);
    }

    /// <summary>Whether a result can be held in 16 bits: its storage's only view (fresh from the op), whole, not held already.</summary>
    static bool CanHold(Tensor t) => t.offset == 0 && t.Count == t.Storage.Length && t.Count > 0 && S(t).HeldAs == DType.Float32;

    /// <summary>
    /// An output for a kernel that stores with <c>store_from_float</c>: its storage's element 0 and format. Float32: the
    /// float32 block (widened first if it was held); bf16/fp16: the storage, which <see cref="CanHold"/> allows, held so.
    /// </summary>
    static (ulong Base, int Type) Output(Tensor t, DType format)
    {
        if (format == DType.Float32) return (Base(t), (int)DType.Float32);
        S(t).HoldIn16(format);
        return (S(t).HeldPointer, (int)format);
    }

    /// <summary>
    /// As <see cref="AddInput"/>, for kernels that walk contiguous rows from the tensor's first element: that element's
    /// address as the block holds it (the offset applied in the held format's size), then the format.
    /// </summary>
    static void AddRowsInput(ref KernelArgs args, Tensor t)
    {
        var s = S(t);
        args.Add(s.HeldPointer + (ulong)(t.offset * s.HeldAs.SizeOf()));
        args.Add((int)s.HeldAs);
    }

    /// <summary>Device address of element 0 of a tensor's storage (kernels given a layout add the offsets).</summary>
    static ulong Base(Tensor t) => S(t).Pointer;

    /// <summary>Device address, or 0 (a null pointer in the kernel) for an absent optional tensor.</summary>
    static ulong Optional(Tensor? t) => t is null ? 0 : P(t);

    Tensor Temp(int[] shape, DType dtype, bool zeroed = false) => Tensor.Allocate(shape, dtype, device, zeroed);

    public override float ReadElement(Storage storage, long offset)
    {
        var s = (CudaStorage)storage;
        var size = s.DType.SizeOf();
        uint bits = 0;
        Dev.MakeCurrent();
        CudaDriver.CopyDeviceToHost(&bits, s.Pointer + (ulong)(offset * size), size, Dev.Stream);
        Dev.Synchronize();
        return s.DType switch
        {
            DType.Float32 => BitConverter.UInt32BitsToSingle(bits),
            DType.Int32 => (int)bits,
            _ => HalfConversions.ToFloat((ushort)bits, s.DType),
        };
    }

    public override void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        if (destination.DType == DType.Float32)
        {
            HostToDevice(MemoryMarshal.AsBytes(source), P(destination));
            return;
        }
        var staged = Temp(destination.shape, DType.Float32);
        HostToDevice(MemoryMarshal.AsBytes(source), P(staged));
        Copy(staged, destination);
    }

    public override void Upload(ReadOnlySpan<int> source, Tensor destination)
    {
        if (destination.DType == DType.Int32)
        {
            HostToDevice(MemoryMarshal.AsBytes(source), P(destination));
            return;
        }
        var staged = Temp(destination.shape, DType.Int32);
        HostToDevice(MemoryMarshal.AsBytes(source), P(staged));
        Copy(staged, destination);
    }

    /// <summary>Through a pinned staging buffer, so the host does not wait for the GPU (<see cref="CudaHostStaging"/>).</summary>
    void HostToDevice(ReadOnlySpan<byte> bytes, ulong destination) => Dev.Staging.Copy(bytes, destination);

    void DeviceToHost(ulong source, Span<byte> bytes)
    {
        if (bytes.IsEmpty) return;
        Dev.MakeCurrent();
        // The host buffer stays pinned until the copy has landed (a managed array may move once unpinned;
        // the driver promises a pageable destination is written before it returns, this does not rely on it).
        fixed (byte* p = bytes)
        {
            CudaDriver.CopyDeviceToHost(p, source, bytes.Length, Dev.Stream);
            Dev.Synchronize();
        }
    }

    /// <summary>A contiguous copy of any view in <paramref name="dtype"/> (the view itself when it already is one).</summary>
    Tensor ContiguousAs(Tensor t, DType dtype)
    {
        if (t.contiguous && t.DType == dtype) return t;
        var c = Temp(t.shape, dtype);
        Copy(t, c);
        return c;
    }

    public override void Download(Tensor source, Span<float> destination)
    {
        var c = ContiguousAs(source, DType.Float32);
        DeviceToHost(P(c), MemoryMarshal.AsBytes(destination[..(int)c.Count]));
    }

    public override void Download(Tensor source, Span<int> destination)
    {
        var c = ContiguousAs(source, DType.Int32);
        DeviceToHost(P(c), MemoryMarshal.AsBytes(destination[..(int)c.Count]));
    }

    /// <summary>Held in part's 16-bit format, cleared, when part is held so: the parts' copies then move 2 bytes an element.</summary>
    public override Tensor ZerosForParts(int[] shape, Tensor part)
    {
        var format = S(part).HeldAs;
        if (format.SizeOf() != 2 || part.DType != DType.Float32) return base.ZerosForParts(shape, part);
        var zeros = Tensor.Allocate(shape, DType.Float32, device);
        if (!CanHold(zeros)) return base.ZerosForParts(shape, part);   // empty
        var block = Output(zeros, format).Base;
        Dev.MakeCurrent();
        CudaDriver.Memset16(block, 0, zeros.Count, Dev.Stream);
        return zeros;
    }

    public override void Copy(Tensor source, Tensor destination)
    {
        var n = destination.Count;
        if (n == 0) return;
        if (S(destination).HeldAs != destination.DType && S(source).HeldAs == S(destination).HeldAs)
        {
            // Both held in one 16-bit format: the values move as the blocks hold them, and the destination stays held.
            var held = new KernelArgs();
            held.Add(CudaLayout.Of(destination.shape, destination, source));
            held.Add(S(destination).HeldPointer);
            held.Add((int)S(destination).HeldAs);
            AddInput(ref held, source);
            held.Add(n);
            Dev.LaunchElementwise("elementwise.cu", "copy_strided", n, ref held);
            return;
        }
        if (source.DType == destination.DType && S(source).HeldAs == source.DType && source.contiguous && destination.contiguous)
        {
            Dev.MakeCurrent();
            CudaDriver.CopyDeviceToDevice(P(destination), P(source), n * source.DType.SizeOf(), Dev.Stream);
            return;
        }
        var args = new KernelArgs();
        args.Add(CudaLayout.Of(destination.shape, destination, source));
        args.Add(Base(destination));
        args.Add((int)destination.DType);
        AddInput(ref args, source);
        args.Add(n);
        Dev.LaunchElementwise("elementwise.cu", "copy_strided", n, ref args);
    }

    public override void Fill(Tensor destination, float value)
    {
        var n = destination.Count;
        if (n == 0) return;
        var dtype = destination.DType;
        var bits = dtype switch
        {
            DType.Float32 => BitConverter.SingleToUInt32Bits(value),
            DType.Int32 => (uint)(int)value,
            _ => HalfConversions.FromFloat(value, dtype),
        };
        if (destination.contiguous)
        {
            Dev.MakeCurrent();
            if (dtype.SizeOf() == 4) CudaDriver.Memset32(P(destination), bits, n, Dev.Stream);
            else CudaDriver.Memset16(P(destination), (ushort)bits, n, Dev.Stream);
            return;
        }
        var args = new KernelArgs();
        args.Add(CudaLayout.Of(destination.shape, destination));
        args.Add(Base(destination));
        args.Add(dtype.SizeOf());
        args.Add(bits);
        args.Add(n);
        Dev.LaunchElementwise("elementwise.cu", "fill_strided", n, ref args);
    }

    /// <summary>Drawn on the host, in row-major order, then uploaded: every device gets the same numbers for a seed.</summary>
    public override void Generate(Tensor destination, Generator generator, Distribution distribution, float a, float b)
    {
        var values = new float[destination.Count];
        switch (distribution)
        {
            case Distribution.Uniform: generator.FillUniform(values, a, b); break;
            default: generator.FillGaussian(values, a, b); break;
        }
        Upload(values, destination);
    }

    public override (bool NaN, bool Infinity) FindNonFinite(Tensor t)
    {
        var c = ContiguousAs(t, DType.Float32);
        var flags = Temp([2], DType.Int32, zeroed: true);
        var args = new KernelArgs();
        args.Add(P(c));
        args.Add(c.Count);
        args.Add(P(flags));
        Dev.LaunchElementwise("reduce.cu", "find_nonfinite", c.Count, ref args);
        var host = new int[2];
        Download(flags, host);
        return (host[0] != 0, host[1] != 0);
    }

    public override double SumOfSquares(Tensor t)
    {
        var c = ContiguousAs(t, DType.Float32);
        var n = c.Count;
        if (n == 0) return 0;
        // The grid depends on n only, so the partial sums, and their order, repeat run after run.
        var blocks = (int)Math.Min((n + CudaDevice.Threads - 1) / CudaDevice.Threads, 1024);
        var partial = Temp([2 * blocks], DType.Float32);   // doubles
        var total = Temp([2], DType.Float32);              // one double
        var args = new KernelArgs();
        args.Add(P(c));
        args.Add(n);
        args.Add(P(partial));
        Dev.Launch("reduce.cu", "sum_squares_partial", (uint)blocks, 1, CudaDevice.Threads, 0, ref args);
        var sum = new KernelArgs();
        sum.Add(P(partial));
        sum.Add(blocks);
        sum.Add(P(total));
        Dev.Launch("reduce.cu", "sum_partials_d", 1, 1, CudaDevice.Threads, 0, ref sum);
        double result = 0;
        DeviceToHost(P(total), new Span<byte>(&result, 8));
        return result;
    }

    /// <summary>
    /// Every tensor's per-block partial sums into one buffer by one kernel (each block finds its tensor in a table of
    /// spans), one kernel adding them all, one read-back: a global gradient norm is two launches and one wait, however
    /// many parameters. A tensor's blocks stride over it exactly as a launch of its own would, so the partials, their
    /// order and the result depend on the sizes only and repeat run after run.
    /// </summary>
    public override double SumOfSquares(IReadOnlyList<Tensor> tensors)
    {
        var inputs = tensors.Select(t => ContiguousAs(t, DType.Float32)).Where(c => c.Count > 0).ToList();
        if (inputs.Count == 0) return 0;
        var (total, _, _) = QueueSumOfSquares(inputs);
        double result = 0;
        DeviceToHost(P(total), new Span<byte>(&result, 8));
        GC.KeepAlive(inputs);   // contiguous copies, held until their kernels are queued
        return result;
    }

    /// <summary>
    /// The two launches of <see cref="SumOfSquares(IReadOnlyList{Tensor})"/> (contiguous float32 inputs, none empty):
    /// the sum of squares left on the device as one double, and the table of spans with its number of blocks.
    /// </summary>
    (Tensor Total, Tensor Spans, int Blocks) QueueSumOfSquares(IReadOnlyList<Tensor> inputs)
    {
        var (spans, blocks) = Spans(inputs, 1024);
        var partial = Temp([2 * blocks], DType.Float32);   // doubles
        var total = Temp([2], DType.Float32);              // one double
        var args = new KernelArgs();
        args.Add(P(spans));
        args.Add(inputs.Count);
        args.Add(P(partial));
        Dev.Launch("reduce.cu", "sum_squares_multi", (uint)blocks, 1, CudaDevice.Threads, 0, ref args);
        var sum = new KernelArgs();
        sum.Add(P(partial));
        sum.Add(blocks);
        sum.Add(P(total));
        Dev.Launch("reduce.cu", "sum_partials_d", 1, 1, CudaDevice.Threads, 0, ref sum);
        return (total, spans, blocks);
    }

    /// <summary>Contiguous float32 tensors (gradients) scaled in one launch; anything else one by one.</summary>
    public override void ScaleInPlace(IReadOnlyList<Tensor> tensors, float factor)
    {
        var direct = tensors.Where(t => t.contiguous && t.DType == DType.Float32 && t.Count > 0).ToList();
        foreach (var t in tensors.Where(t => !(t.contiguous && t.DType == DType.Float32)))
            BinaryScalar(BinaryOp.Mul, t, factor, false, t);
        if (direct.Count == 0) return;
        var (spans, blocks) = Spans(direct, (int)Dev.GridFor(long.MaxValue));
        var args = new KernelArgs();
        args.Add(P(spans));
        args.Add(direct.Count);
        args.Add(factor);
        Dev.Launch("elementwise.cu", "scale_multi", (uint)blocks, 1, CudaDevice.Threads, 0, ref args);
        GC.KeepAlive(spans);
    }

    /// <summary>
    /// Clipping queued whole: sum_squares_multi and sum_partials_d leave the sum of squares on the device, and one
    /// launch of clip_multi reads it, computes the norm and the coefficient, and rescales every tensor where needed; the
    /// norm stays on the device. No wait: the host reads the norm when it wants it (one wait, like SumOfSquares's).
    /// Tensors that are not contiguous float32 (never a gradient here) take the base class's path.
    /// </summary>
    public override Tensor ClipToGlobalNorm(IReadOnlyList<Tensor> tensors, float maxNorm)
    {
        if (tensors.Any(t => !(t.contiguous && t.DType == DType.Float32))) return base.ClipToGlobalNorm(tensors, maxNorm);
        var norm = Temp([1], DType.Float32, zeroed: true);
        var direct = tensors.Where(t => t.Count > 0).ToList();
        if (direct.Count == 0) return norm;
        var (total, squares, squareBlocks) = QueueSumOfSquares(direct);
        // The rescale strides over each tensor with the blocks its sum of squares had: one table uploaded, not two.
        var clip = new KernelArgs();
        clip.Add(P(squares));
        clip.Add(direct.Count);
        clip.Add(P(total));
        clip.Add(maxNorm);
        clip.Add(P(norm));
        Dev.Launch("elementwise.cu", "clip_multi", (uint)squareBlocks, 1, CudaDevice.Threads, 0, ref clip);
        GC.KeepAlive(squares);
        return norm;
    }

    /// <summary>
    /// The table a multi-tensor kernel reads (common.cuh's <c>TensorSpan</c>: address, length, first block), uploaded
    /// to the device, and the total number of blocks: each tensor gets as many as a launch of its own would, at most
    /// <paramref name="maxBlocks"/>.
    /// </summary>
    (Tensor Table, int Blocks) Spans(IReadOnlyList<Tensor> tensors, int maxBlocks)
    {
        var table = new long[3 * tensors.Count];
        var blocks = 0;
        for (var i = 0; i < tensors.Count; i++)
        {
            table[3 * i] = (long)P(tensors[i]);
            table[3 * i + 1] = tensors[i].Count;
            table[3 * i + 2] = blocks;
            blocks = checked(blocks + (int)Math.Min((tensors[i].Count + CudaDevice.Threads - 1) / CudaDevice.Threads, maxBlocks));
        }
        var device = Temp([2 * table.Length], DType.Int32);   // 8 bytes per entry
        HostToDevice(MemoryMarshal.AsBytes(table.AsSpan()), Base(device));
        return (device, blocks);
    }

    public override void RoundTo(DType precision, Tensor x, Tensor y)
    {
        if (precision == DType.Float32)
        {
            if (!ReferenceEquals(x, y)) Copy(x, y);
            return;
        }
        var args = new KernelArgs();
        args.Add((int)precision);
        args.Add(P(y));
        args.Add(P(x));
        args.Add(y.Count);
        Dev.LaunchElementwise("elementwise.cu", "round_to", y.Count, ref args);
    }
}
