using System.Runtime.InteropServices;

namespace LlmCourse.Tensors.Backends.Cpu.Gemm;

/// <summary>
/// A growable block of native floats aligned to a cache line (64 bytes, one Vector512), for the
/// packed panels kernels stream through. Native memory because packed panels are read through
/// pointers for the whole kernel call and must not move; kept per thread and grown, never shrunk,
/// so steady-state calls allocate nothing. The finalizer frees it when its thread is gone.
/// </summary>
internal sealed unsafe class AlignedBuffer
{
    float* data;
    nint capacity;

    /// <summary>At least <paramref name="floats"/> floats; the previous contents are not kept.</summary>
    public float* Get(nint floats)
    {
        if (floats > capacity)
        {
            Free();
            var grown = Math.Max(floats, capacity + capacity / 2);
            data = (float*)NativeMemory.AlignedAlloc((nuint)grown * sizeof(float), 64);
            capacity = grown;
        }
        return data;
    }

    void Free()
    {
        if (data is null) return;
        NativeMemory.AlignedFree(data);
        data = null;
        capacity = 0;
    }

    ~AlignedBuffer() => Free();
}
