using System.Runtime.InteropServices;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>Host memory: a byte array rented from <see cref="CpuMemoryPool"/>, seen as floats, ints or halves.</summary>
internal sealed class CpuStorage : Storage
{
    byte[]? bytes;
    string? releasedBecause;

    public CpuStorage(DType dtype, long length, bool zeroed) : base(dtype, length)
    {
        var byteCount = length * dtype.SizeOf();
        if (byteCount > Array.MaxLength)
            throw new OutOfMemoryException($"A CPU tensor of {length} {dtype} elements ({byteCount} bytes) exceeds the largest array .NET allows.");
        var scope = TensorScope.Current;
        bytes = CpuMemoryPool.Rent((int)byteCount, exact: scope is null);
        if (zeroed) Array.Clear(bytes, 0, (int)byteCount);
        scope?.Track(this);
    }

    public override Device Device => Device.Cpu;

    public override bool IsReleased => bytes is null;

    int ByteCount => (int)(Length * DType.SizeOf());

    public Span<byte> Bytes => (bytes ?? throw ReleasedError()).AsSpan(0, ByteCount);

    public Span<float> Floats => MemoryMarshal.Cast<byte, float>(Bytes);

    public Span<int> Ints => MemoryMarshal.Cast<byte, int>(Bytes);

    public Span<ushort> Halves => MemoryMarshal.Cast<byte, ushort>(Bytes);

    public override void Release(string why)
    {
        var b = bytes;
        if (b is null) return;
        bytes = null;
        releasedBecause = why;
        CpuMemoryPool.Return(b);
    }

    ObjectDisposedException ReleasedError() => new(
        "Tensor",
        $"This tensor's memory was returned to the pool ({releasedBecause}). " +
        "Keep a tensor beyond its scope with TensorScope.Keep(tensor), or read what you need (Item(), ToArray()) before the scope ends.");
}
