using LlmCourse.Tensors.Backends.Cuda.Native;
namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// Device memory: a block of the device's <see cref="CudaAllocator"/>. It goes back to the allocator's
/// cache when its <see cref="TensorScope"/> ends, or, without a scope, when the garbage collector
/// finalizes it: user code never disposes a tensor.
/// A Float32 storage may be <b>held in 16 bits</b> (<see cref="HeldAs"/>): autocast's products store their
/// results as bf16/fp16, values a float32 holds exactly, so the block keeps those 2 bytes an element (PyTorch's
/// autocast returns a bf16 tensor here). Kernels that read 16-bit operands take the block as it is
/// (<see cref="HeldPointer"/>); any other access (<see cref="Pointer"/>: a kernel that reads only float32, any
/// write, a copy to the host) widens the block to float32 first, in place, so no op above the backend ever sees
/// the difference.
/// </summary>
internal sealed class CudaStorage : Storage
{
    readonly CudaDevice device;
    readonly Device owner;
    ulong pointer;
    long blockSize;
    string? releasedBecause;

    public CudaStorage(Device owner, CudaDevice device, DType dtype, long length, bool zeroed) : base(dtype, length)
    {
        this.owner = owner;
        this.device = device;
        HeldAs = dtype;
        var bytes = Math.Max(length, 1) * dtype.SizeOf();
        pointer = device.Allocator.Allocate(bytes, out blockSize);
        if (zeroed && length > 0)
        {
            device.MakeCurrent();   // a block reused from the cache was handed out without touching the driver
            // cuMemsetD32 writes whole words: a 16-bit tensor of odd length is cleared with D16.
            if (dtype.SizeOf() == 4) CudaDriver.Memset32(pointer, 0, length, device.Stream);
            else CudaDriver.Memset16(pointer, 0, length, device.Stream);
        }
        TensorScope.Current?.Track(this);
    }

    ~CudaStorage()
    {
        var p = pointer;
        if (p != 0) device.Allocator.Free(p, blockSize);
    }

    public override Device Device => owner;

    public override bool IsReleased => pointer == 0;

    /// <summary>What the block holds: the dtype, or BFloat16/Float16 for a Float32 storage held in 16 bits.</summary>
    public DType HeldAs { get; private set; }

    /// <summary>The device address of element 0, the block widened to the dtype first if it was held in 16 bits.</summary>
    public ulong Pointer
    {
        get
        {
            if (HeldAs != DType) Widen();
            return HeldPointer;
        }
    }

    /// <summary>The device address of element 0 as the block holds it (<see cref="HeldAs"/>): for kernels that read 16-bit operands.</summary>
    public ulong HeldPointer => pointer != 0 ? pointer : throw new ObjectDisposedException("Tensor",
        $"This tensor's GPU memory was returned to the allocator ({releasedBecause}). " +
        "Keep a tensor beyond its scope with TensorScope.Keep(tensor), or read what you need (Item(), ToArray()) before the scope ends.");

    /// <summary>
    /// For a fresh Float32 result about to be written whole in <paramref name="precision"/> (bf16/fp16): swaps the
    /// block for one of 2 bytes an element. Its old contents are dropped.
    /// </summary>
    public void HoldIn16(DType precision)
    {
        if (DType != DType.Float32 || precision.SizeOf() != 2 || HeldAs != DType.Float32)
            throw new InvalidOperationException($"CudaStorage: a {DType} storage held as {HeldAs} cannot be held as {precision}.");
        _ = HeldPointer;   // not released
        var block = device.Allocator.Allocate(Math.Max(Length, 1) * 2, out var size);
        Swap(block, size, precision);
    }

    /// <summary>The 16-bit values widened (exactly) into a float32 block, which replaces the 16-bit one.</summary>
    void Widen()
    {
        var narrow = HeldPointer;
        var wide = device.Allocator.Allocate(Math.Max(Length, 1) * DType.SizeOf(), out var size);
        var args = new KernelArgs();
        args.Add(wide);
        args.Add(narrow);
        args.Add((int)HeldAs);
        args.Add(Length);
        device.LaunchElementwise("elementwise.cu", "widen_16", Length, ref args);
        Swap(wide, size, DType);
    }

    /// <summary>
    /// The storage's block becomes <paramref name="block"/>; the old one goes back to the allocator. Kernels run in
    /// the order they are queued on the device's one stream, so a later kernel given the old block's memory runs
    /// after every kernel queued before this swap has read it.
    /// </summary>
    void Swap(ulong block, long size, DType heldAs)
    {
        device.Allocator.Free(pointer, blockSize);
        (pointer, blockSize, HeldAs) = (block, size, heldAs);
    }

    public override void Release(string why)
    {
        var p = pointer;
        if (p == 0) return;
        pointer = 0;
        releasedBecause = why;
        device.Allocator.Free(p, blockSize);
        GC.SuppressFinalize(this);
    }
}
