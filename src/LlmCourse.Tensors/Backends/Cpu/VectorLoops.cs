using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>An element-wise function of one input with its scalar, Vector256 and Vector512 forms (STYLE 4).</summary>
internal interface IVectorFunction
{
    static abstract float Invoke(float x);
    static abstract Vector256<float> Invoke(Vector256<float> x);
    static abstract Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>An element-wise function of two inputs (an input and its upstream gradient, for derivatives).</summary>
internal interface IVectorFunction2
{
    static abstract float Invoke(float x, float g);
    static abstract Vector256<float> Invoke(Vector256<float> x, Vector256<float> g);
    static abstract Vector512<float> Invoke(Vector512<float> x, Vector512<float> g);
}

/// <summary>
/// The one loop every vectorised function runs in: the widest vector the CPU has, then the last
/// partial vector done as one overlapping full vector (so an element's bits never depend on where it
/// sits in the array), scalar only for inputs shorter than a vector.
/// </summary>
internal static class VectorLoops
{
    public static void Map<TOp>(ReadOnlySpan<float> x, Span<float> y) where TOp : IVectorFunction
    {
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var yr = ref MemoryMarshal.GetReference(y);
        var n = x.Length;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            for (var i = 0; ; i += Vector512<float>.Count)
            {
                var at = (nuint)Math.Min(i, n - Vector512<float>.Count);
                TOp.Invoke(Vector512.LoadUnsafe(ref xr, at)).StoreUnsafe(ref yr, at);
                if ((int)at == n - Vector512<float>.Count) return;
            }
        }
        if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            for (var i = 0; ; i += Vector256<float>.Count)
            {
                var at = (nuint)Math.Min(i, n - Vector256<float>.Count);
                TOp.Invoke(Vector256.LoadUnsafe(ref xr, at)).StoreUnsafe(ref yr, at);
                if ((int)at == n - Vector256<float>.Count) return;
            }
        }
        for (var i = 0; i < n; i++) y[i] = TOp.Invoke(x[i]);
    }

    public static void Map<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> y) where TOp : IVectorFunction2
    {
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var gr = ref MemoryMarshal.GetReference(g);
        ref var yr = ref MemoryMarshal.GetReference(y);
        var n = x.Length;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            for (var i = 0; ; i += Vector512<float>.Count)
            {
                var at = (nuint)Math.Min(i, n - Vector512<float>.Count);
                TOp.Invoke(Vector512.LoadUnsafe(ref xr, at), Vector512.LoadUnsafe(ref gr, at)).StoreUnsafe(ref yr, at);
                if ((int)at == n - Vector512<float>.Count) return;
            }
        }
        if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            for (var i = 0; ; i += Vector256<float>.Count)
            {
                var at = (nuint)Math.Min(i, n - Vector256<float>.Count);
                TOp.Invoke(Vector256.LoadUnsafe(ref xr, at), Vector256.LoadUnsafe(ref gr, at)).StoreUnsafe(ref yr, at);
                if ((int)at == n - Vector256<float>.Count) return;
            }
        }
        for (var i = 0; i < n; i++) y[i] = TOp.Invoke(x[i], g[i]);
    }
}
