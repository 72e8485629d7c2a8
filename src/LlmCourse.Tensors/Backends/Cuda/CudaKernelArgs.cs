using System.Runtime.InteropServices;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// The kernels' <c>Layout</c> (common.cuh), byte for byte: up to four same-shape operands (operand 0 the
/// output) with their dims merged where all are contiguous across the merge (<see cref="StridedLayout"/>).
/// Passed by value as a kernel parameter.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CudaLayout
{
    public const int MaxDims = 8, MaxOperands = 4;

    public fixed long Offsets[MaxOperands];
    public int Rank;
    public fixed int Shape[MaxDims];
    public fixed int Strides[MaxOperands * MaxDims];

    /// <summary>The merged layout of <paramref name="operands"/> over <paramref name="shape"/>, and its element count.</summary>
    public static CudaLayout Of(int[] shape, params ReadOnlySpan<Tensor> operands)
    {
        var merged = new StridedLayout(shape, operands);
        if (merged.Rank > MaxDims)
            throw new CudaException($"A view of {merged.Rank} non-mergeable dims exceeds the CUDA kernels' {MaxDims}; make the tensor contiguous first.");
        var layout = new CudaLayout { Rank = merged.Rank };
        for (var d = 0; d < merged.Rank; d++) layout.Shape[d] = merged.Shape[d];
        for (var o = 0; o < operands.Length; o++)
        {
            layout.Offsets[o] = merged.Offsets[o];
            for (var d = 0; d < merged.Rank; d++) layout.Strides[o * MaxDims + d] = merged.Strides[o][d];
        }
        return layout;
    }

    /// <summary>An unmerged layout: <paramref name="shape"/> with one stride row per operand (gather/scatter kernels).</summary>
    public static CudaLayout Raw(ReadOnlySpan<int> shape, long offset0, params int[][] strideRows)
    {
        if (shape.Length > MaxDims) throw new CudaException($"Tensors of rank {shape.Length} exceed the CUDA kernels' {MaxDims} dims.");
        var layout = new CudaLayout { Rank = Math.Max(shape.Length, 1) };
        layout.Offsets[0] = offset0;
        layout.Shape[0] = 1;
        for (var d = 0; d < shape.Length; d++) layout.Shape[d] = shape[d];
        for (var o = 0; o < strideRows.Length; o++)
            for (var d = 0; d < strideRows[o].Length; d++) layout.Strides[o * MaxDims + d] = strideRows[o][d];
        return layout;
    }
}

/// <summary>The attention kernels' <c>AttnLayout</c> (attention.cu), byte for byte: per-operand batch strides, offsets and row distances.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CudaAttentionLayout
{
    public const int MaxBatchDims = 6, Operands = 8;

    public fixed long Offsets[Operands];
    public fixed int Ld[Operands];
    public int Rank;
    public fixed int Shape[MaxBatchDims];
    public fixed int Strides[Operands * MaxBatchDims];
}

/// <summary>
/// A kernel's arguments packed in call order, each at its natural alignment, with the pointer array
/// cuLaunchKernel wants. Lives on the caller's stack (a ref struct), so the addresses stay valid.
/// Each value's kind and size is recorded too (<see cref="CudaKernelSignature"/>), so a launch can be
/// checked against the kernel's parameter list before the driver reads the values blindly.
/// </summary>
internal unsafe ref struct KernelArgs
{
    const int Capacity = 2048, MaxArgs = 32;
    fixed byte data[Capacity];
    fixed int offsets[MaxArgs];
    fixed int codes[MaxArgs];
    int used;
    int count;

    public void Add<T>(T value) where T : unmanaged
    {
        var size = sizeof(T);
        var align = size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
        used = (used + align - 1) & ~(align - 1);
        if (used + size > Capacity || count >= MaxArgs) throw new InvalidOperationException("KernelArgs: too many kernel arguments.");
        fixed (byte* d = data) *(T*)(d + used) = value;
        var kind = typeof(T) == typeof(float) || typeof(T) == typeof(double) ? CudaKernelSignature.Float
            : typeof(T).IsPrimitive ? CudaKernelSignature.Integer : CudaKernelSignature.Blob;
        codes[count] = CudaKernelSignature.Code(kind, size);
        offsets[count++] = used;
        used += size;
    }

    /// <summary>The kind and size of each packed value, in order (<see cref="CudaKernelSignature.Code"/>).</summary>
    public ReadOnlySpan<int> Codes
    {
        get
        {
            fixed (int* c = codes) return new ReadOnlySpan<int>(c, count);
        }
    }

    /// <summary>Fills <paramref name="pointers"/> (at least <see cref="Count"/> long) with the addresses of the packed values.</summary>
    public void Pointers(void** pointers)
    {
        fixed (byte* d = data)
            for (var i = 0; i < count; i++) pointers[i] = d + offsets[i];
    }

    public readonly int Count => count;
}
