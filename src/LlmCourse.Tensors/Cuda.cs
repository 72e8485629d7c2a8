using LlmCourse.Tensors.Backends.Cuda.Native;
using LlmCourse.Tensors.Formatting;
using LlmCourse.Tensors.Backends;
using LlmCourse.Tensors.Backends.Cuda;

namespace LlmCourse.Tensors;

/// <summary>
/// The GPU side of the engine at a glance: whether CUDA works here, memory statistics of the caching
/// allocator, synchronisation, TF32, and a description of the GPU and the CUDA libraries found.
/// Tensors go to a GPU with <c>tensor.To(Device.Cuda())</c>, models with <c>model.To(Device.Cuda())</c>.
/// </summary>
public static class Cuda
{
    /// <summary>True when the CUDA driver loads and reports at least one GPU.</summary>
    public static bool IsAvailable => Device.IsCudaAvailable;

    /// <summary>Number of CUDA GPUs (0 without a driver).</summary>
    public static int DeviceCount => SafeDeviceCount();

    /// <summary>Why CUDA is not usable here ("" when it is).</summary>
    public static string Unavailability => CudaDriver.Unavailability();

    /// <summary>
    /// True when the engine can run on a GPU here: a GPU and its driver (<see cref="IsAvailable"/>), and the two CUDA
    /// libraries the backend needs besides the driver, NVRTC (which compiles its kernels) and cuBLAS (its matrix
    /// products). A machine with an NVIDIA driver but no CUDA toolkit has the first and not the others. What a notebook
    /// should test before it picks the GPU; <see cref="Problems"/> says what is missing.
    /// </summary>
    public static bool IsUsable => Problems.Count == 0;

    /// <summary>
    /// What keeps the engine off the GPU here, one line each with what to do (the driver or GPU missing, NVRTC or cuBLAS
    /// not found); empty when <see cref="IsUsable"/>.
    /// </summary>
    public static IReadOnlyList<string> Problems =>
        !IsAvailable ? [Unavailability] : new[] { Nvrtc.LoadError, Cublas.LoadError }.OfType<string>().ToList();

    /// <summary>
    /// Whether the GPU has bf16 tensor cores: compute capability 8.0 and up (A100, L4, H100...), PyTorch's
    /// <c>torch.cuda.is_bf16_supported()</c>. Below that (a T4, a V100) mixed precision means float16, with loss scaling.
    /// </summary>
    public static bool IsBFloat16Supported(int device = 0) => CudaBackend.For(device).Gpu.ComputeCapability >= 80;

    /// <summary>
    /// Lets float32 matrix products use TF32 tensor cores (10-bit mantissa inputs, float32 accumulation):
    /// several times faster, about 1e-3 relative error. Off by default, as in PyTorch
    /// (<c>torch.backends.cuda.matmul.allow_tf32 = False</c>). Autocast's bf16 products ignore it.
    /// </summary>
    public static bool AllowTF32 { get; set; }

    /// <summary>Tensors' memory, the caching allocator's reserve, their peaks and the GPU's free memory.</summary>
    public static CudaMemoryStats MemoryStats(int device = 0) => CudaBackend.For(device).Gpu.Allocator.Stats();

    /// <summary>Resets the peaks of <see cref="MemoryStats"/> to the current values.</summary>
    public static void ResetPeakMemoryStats(int device = 0) => CudaBackend.For(device).Gpu.Allocator.ResetPeak();

    /// <summary>Returns the allocator's cached, unused blocks to the driver (other processes can then use them).</summary>
    public static void EmptyCache(int device = 0) => CudaBackend.For(device).Gpu.Allocator.EmptyCache();

    /// <summary>
    /// Waits until every kernel queued on the device has finished (for timing). Like every read-back, it then
    /// throws an index check that failed on the GPU meanwhile (an embedding id or a target out of range: the
    /// CPU's <see cref="TensorShapeException"/>, reported late as PyTorch's device-side asserts are).
    /// </summary>
    public static void Synchronize(int device = 0) => CudaBackend.For(device).Gpu.Synchronize();

    /// <summary>The GPU, its compute capability and memory, and the driver, NVRTC and cuBLAS found.</summary>
    public static CudaInfo Describe(int device = 0)
    {
        var d = CudaBackend.For(device).Gpu;
        var (major, minor) = Nvrtc.IsAvailable ? Nvrtc.Version() : (0, 0);
        return new CudaInfo(d.Name, d.ComputeCapability / 10, d.ComputeCapability % 10, d.Multiprocessors, d.TotalMemory,
            CudaDriver.DriverVersion(), CudaDriver.LibraryName!, Nvrtc.LibraryName, Nvrtc.IsAvailable ? $"{major}.{minor}" : null,
            Cublas.LibraryName, Cublas.IsAvailable ? Backends.Cuda.Native.Cublas.Version(d.Blas) : 0);
    }

    static int SafeDeviceCount()
    {
        try
        {
            return CudaDriver.DeviceCount();
        }
        catch (CudaException)
        {
            return 0;
        }
    }
}

/// <summary>What <see cref="Cuda.Describe"/> reports. DriverVersion is CUDA's encoding (13000 = 13.0).</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record CudaInfo(string Name, int Major, int Minor, int Multiprocessors, long TotalMemory, int DriverVersion,
    string DriverLibrary, string? NvrtcLibrary, string? NvrtcVersion, string? CublasLibrary, int CublasVersion)
{
    public override string ToString() =>
        $"{Name} (compute capability {Major}.{Minor}, {Multiprocessors} SMs, {TotalMemory / (double)(1L << 30):F0} GiB), " +
        $"driver CUDA {DriverVersion / 1000}.{DriverVersion % 1000 / 10} ({DriverLibrary}), " +
        $"NVRTC {NvrtcVersion ?? "missing"} ({NvrtcLibrary ?? "-"}), cuBLAS {(CublasVersion == 0 ? "missing" : CublasVersion.ToString())} ({CublasLibrary ?? "-"})";
}

/// <summary>Memory of one GPU: what tensors hold, what the caching allocator holds, their peaks, and the driver's view.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public readonly record struct CudaMemoryStats(long Allocated, long Reserved, long PeakAllocated, long PeakReserved, long DeviceFree, long DeviceTotal)
{
    public override string ToString() =>
        $"allocated {Backends.Cuda.CudaAllocator.Format(Allocated)} (peak {Backends.Cuda.CudaAllocator.Format(PeakAllocated)}), reserved {Backends.Cuda.CudaAllocator.Format(Reserved)} " +
        $"(peak {Backends.Cuda.CudaAllocator.Format(PeakReserved)}), GPU free {Backends.Cuda.CudaAllocator.Format(DeviceFree)} of {Backends.Cuda.CudaAllocator.Format(DeviceTotal)}";
}
