using System.Runtime.InteropServices;

namespace LlmCourse.Tensors.Backends.Cuda.Native;

/// <summary>
/// Finds a native library by soname through the loader's cache (<c>libcuda.so.1</c>, <c>libnvrtc.so.13</c>
/// ...), the first of several names that loads, and resolves its exports. Nothing is loaded until first
/// asked for, so the assembly works on machines without CUDA.
/// </summary>
internal sealed class NativeLibraryHandle
{
    readonly IntPtr handle;

    NativeLibraryHandle(string name, IntPtr handle)
    {
        Name = name;
        this.handle = handle;
    }

    /// <summary>The soname that loaded.</summary>
    public string Name { get; }

    /// <summary>The first of <paramref name="sonames"/> that loads, or null.</summary>
    public static NativeLibraryHandle? TryLoad(params string[] sonames)
    {
        foreach (var name in sonames)
            if (NativeLibrary.TryLoad(name, out var h)) return new NativeLibraryHandle(name, h);
        return null;
    }

    /// <summary>The address of an exported function; throws naming the library and the symbol when absent.</summary>
    public IntPtr Export(string symbol) => NativeLibrary.TryGetExport(handle, symbol, out var address)
        ? address
        : throw new CudaException($"{Name} has no function {symbol}: the CUDA library is older than this code expects; install CUDA 11.8 or newer.");

    public IntPtr TryExport(string symbol) => NativeLibrary.TryGetExport(handle, symbol, out var address) ? address : IntPtr.Zero;

    /// <summary>Where a library was looked for, for error messages.</summary>
    public static string Describe(string what, string[] sonames, string remedy) =>
        $"{what} was not found (tried {string.Join(", ", sonames)} through the dynamic loader's cache). {remedy}";
}
