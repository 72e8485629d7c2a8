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
            var detail = found is null ? $"looked for {string.Join(", ", files)}" : name == "NVRTC" ? NvrtcDetail(found) : found;
            results.Add(new NativeLibraryStatus(name, found is not null, detail));
        }
        return results;
    }

    /// <summary>NVRTC's version and the newest architecture it compiles for (the engine compiles its kernels with it).</summary>
    static string NvrtcDetail(string file)
    {
        if (!NativeLibrary.TryLoad(file, out var handle)) return file;
        try
        {
            if (!NativeLibrary.TryGetExport(handle, "nvrtcVersion", out var version)) return file;
            int major, minor;
            if (((delegate* unmanaged<int*, int*, int>)version)(&major, &minor) != 0) return file;
            var detail = $"{file}, NVRTC {major}.{minor}";
            if (NativeLibrary.TryGetExport(handle, "nvrtcGetNumSupportedArchs", out var count)
                && NativeLibrary.TryGetExport(handle, "nvrtcGetSupportedArchs", out var archs))
            {
                int n;
                if (((delegate* unmanaged<int*, int>)count)(&n) == 0 && n > 0)
                {
                    var list = new int[n];
                    fixed (int* p = list)
                        if (((delegate* unmanaged<int*, int>)archs)(p) == 0)
                            detail += $", compute_{list.Min()} to compute_{list.Max()}";
                }
            }
            return detail;
        }
        finally
        {
            NativeLibrary.Free(handle);
        }
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
            NativeLibrary.TryGetExport(handle, "cuDeviceGetAttribute", out var attribute);
            NativeLibrary.TryGetExport(handle, "cuDeviceTotalMem_v2", out var totalMemory);
            for (var i = 0; i < devices; i++)
            {
                int device;
                if (((delegate* unmanaged<int*, int, int>)get)(&device, i) != 0) continue;
                if (((delegate* unmanaged<byte*, int, int, int>)getName)(buffer, 256, device) != 0) continue;
                var description = Marshal.PtrToStringUTF8((nint)buffer) ?? "?";
                int major = 0, minor = 0;
                nuint bytes = 0;
                // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, _MINOR = 76
                if (attribute != 0 && ((delegate* unmanaged<int*, int, int, int>)attribute)(&major, 75, device) == 0
                    && ((delegate* unmanaged<int*, int, int, int>)attribute)(&minor, 76, device) == 0)
                    description += $" (compute capability {major}.{minor}";
                else description += " (";
                if (totalMemory != 0 && ((delegate* unmanaged<nuint*, int, int>)totalMemory)(&bytes, device) == 0)
                    description += $"{(description.EndsWith('(') ? "" : ", ")}{bytes / (1024.0 * 1024 * 1024):0} GiB";
                names.Add(description.EndsWith(" (", StringComparison.Ordinal) ? description[..^2] : description + ")");
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
