using LlmCourse.Tensors.Backends.Cuda.Native;
namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// Device memory: a block of the device's <see cref="CudaAllocator"/>. It goes back to the allocator's
/// cache when its <see cref="TensorScope"/> ends, or, without a scope, when the garbage collector
/// finalizes it: user code never disposes a tensor.
/// </summary>
internal sealed class CudaStorage : Storage
{
    readonly CudaDevice device;
    readonly Device owner;
    ulong pointer;
    readonly long blockSize;
    string? releasedBecause;

    public CudaStorage(Device owner, CudaDevice device, DType dtype, long length, bool zeroed) : base(dtype, length)
    {
        this.owner = owner;
        this.device = device;
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

    /// <summary>The device address of element 0.</summary>
    public ulong Pointer => pointer != 0 ? pointer : throw new ObjectDisposedException("Tensor",
        $"This tensor's GPU memory was returned to the allocator ({releasedBecause}). " +
        "Keep a tensor beyond its scope with TensorScope.Keep(tensor), or read what you need (Item(), ToArray()) before the scope ends.");

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
