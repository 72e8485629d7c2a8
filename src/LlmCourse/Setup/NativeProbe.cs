using System.Runtime.InteropServices;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Setup;

/// <summary>Whether a native library loads here, and what it said when asked.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record NativeLibraryStatus(string Name, bool Found, string? Detail = null);

/// <summary>
/// Looks for the CUDA libraries the GPU backend uses, by loading them (<c>NativeLibrary.TryLoad</c>):
/// that finds them wherever the system loader would, and nothing is installed or required. When the
/// driver loads, it is asked for its version and its devices.
/// </summary>
public static unsafe class NativeProbe
{
    public static IReadOnlyList<NativeLibraryStatus> Cuda()
    {
        var results = new List<NativeLibraryStatus> { Driver() };
        (string Name, string[] Files)[] libraries = OperatingSystem.IsWindows()
            ? [("cuBLAS", ["cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll"]),
               ("cuBLASLt", ["cublasLt64_13.dll", "cublasLt64_12.dll", "cublasLt64_11.dll"]),
               ("NVRTC", ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll"])]
            : [("cuBLAS", ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"]),
               ("cuBLASLt", ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"]),
               ("NVRTC", ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"])];
        foreach (var (name, files) in libraries)
        {
            var found = files.FirstOrDefault(TryLoad);
            results.Add(new NativeLibraryStatus(name, found is not null, found ?? $"looked for {string.Join(", ", files)}"));
        }
        return results;
    }

    static bool TryLoad(string name)
    {
        if (!NativeLibrary.TryLoad(name, out var handle)) return false;
        NativeLibrary.Free(handle);
        return true;
    }

    static NativeLibraryStatus Driver()
    {
        const string name = "driver";
        var file = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        if (OperatingSystem.IsMacOS()) return new NativeLibraryStatus(name, false, "CUDA does not run on macOS");
        if (!NativeLibrary.TryLoad(file, out var handle)) return new NativeLibraryStatus(name, false, $"looked for {file}");
        try
        {
            // The driver API's C entry points; each returns 0 (CUDA_SUCCESS) or an error code.
            if (!NativeLibrary.TryGetExport(handle, "cuInit", out var init)
                || !NativeLibrary.TryGetExport(handle, "cuDriverGetVersion", out var version)
                || !NativeLibrary.TryGetExport(handle, "cuDeviceGetCount", out var count)
                || !NativeLibrary.TryGetExport(handle, "cuDeviceGet", out var get)
                || !NativeLibrary.TryGetExport(handle, "cuDeviceGetName", out var getName))
                return new NativeLibraryStatus(name, true, $"{file} loaded, but it lacks the driver API entry points");
            var status = ((delegate* unmanaged<uint, int>)init)(0);
            if (status != 0) return new NativeLibraryStatus(name, true, $"{file} loaded, but cuInit failed with error {status} (no usable GPU?)");
            int driverVersion, devices;
            ((delegate* unmanaged<int*, int>)version)(&driverVersion);
            ((delegate* unmanaged<int*, int>)count)(&devices);
            var names = new List<string>();
            var buffer = stackalloc byte[256];
            for (var i = 0; i < devices; i++)
            {
                int device;
                if (((delegate* unmanaged<int*, int, int>)get)(&device, i) != 0) continue;
                if (((delegate* unmanaged<byte*, int, int, int>)getName)(buffer, 256, device) == 0)
                    names.Add(Marshal.PtrToStringUTF8((nint)buffer) ?? "?");
            }
            var detail = $"{file}, driver API {driverVersion / 1000}.{driverVersion % 1000 / 10}, {devices} device{(devices == 1 ? "" : "s")}" +
                         (names.Count > 0 ? ": " + string.Join(", ", names) : "");
            return new NativeLibraryStatus(name, true, detail);
        }
        finally
        {
            NativeLibrary.Free(handle);
        }
    }
}
