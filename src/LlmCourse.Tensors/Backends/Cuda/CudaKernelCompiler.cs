using LlmCourse.Tensors.Backends.Cuda.Native;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// The embedded kernel sources (<c>Kernels/*.cu</c>, each preceded by <c>common.cuh</c>) compiled to PTX
/// by NVRTC for one architecture, and cached on disk under the course cache folder
/// (<c>$LLMCOURSE_CACHE</c>, else <c>$XDG_CACHE_HOME/llmcourse</c>, else <c>~/.cache/llmcourse</c>)
/// in <c>cuda-kernels/</c>, keyed by the source's hash, the architecture and NVRTC's version, written
/// atomically (a temporary file renamed into place), so a second process never reads half a file.
/// </summary>
internal static class CudaKernelCompiler
{
    const string ResourcePrefix = "LlmCourse.Tensors.Cuda.";

    /// <summary>The kernel files, e.g. "elementwise.cu".</summary>
    public static IReadOnlyList<string> Files { get; } = typeof(CudaKernelCompiler).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".cu", StringComparison.Ordinal))
        .Select(n => n[ResourcePrefix.Length..]).Order(StringComparer.Ordinal).ToArray();

    static string Resource(string name)
    {
        using var stream = typeof(CudaKernelCompiler).Assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new CudaException($"The CUDA kernel source {name} is not embedded in {typeof(CudaKernelCompiler).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>common.cuh then the file, with #line so NVRTC's errors name the file and line.</summary>
    public static string Source(string file) =>
        $"#line 1 \"common.cuh\"\n{Resource("common.cuh")}\n#line 1 \"{file}\"\n{Resource(file)}";

    /// <summary>NVRTC options: the virtual architecture, IEEE division and square root (the defaults, said aloud), no fast math.</summary>
    public static string[] Options(int architecture) =>
        [$"--gpu-architecture=compute_{architecture}", "--prec-div=true", "--prec-sqrt=true", "--fmad=true", "-default-device"];

    /// <summary>The newest architecture this NVRTC supports that is not newer than the device's (PTX runs on newer GPUs).</summary>
    public static int TargetArchitecture(int deviceArchitecture)
    {
        var supported = Nvrtc.SupportedArchitectures();
        var fitting = supported.Where(a => a <= deviceArchitecture).ToArray();
        if (fitting.Length == 0)
            throw new CudaException($"NVRTC {Nvrtc.Version()} supports compute_{string.Join(", compute_", supported)}, none of which runs on a GPU of compute capability {deviceArchitecture / 10}.{deviceArchitecture % 10}.");
        return fitting.Max();
    }

    /// <summary>PTX of one kernel file for compute_<paramref name="architecture"/>, from the disk cache when present.</summary>
    public static byte[] Ptx(string file, int architecture, bool useCache = true)
    {
        var source = Source(file);
        var (major, minor) = Nvrtc.Version();
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(source + string.Join(' ', Options(architecture)))))[..16].ToLowerInvariant();
        var path = Path.Combine(CacheFolder(), $"{Path.GetFileNameWithoutExtension(file)}-{hash}-compute_{architecture}-nvrtc{major}.{minor}.ptx");
        if (useCache && File.Exists(path)) return File.ReadAllBytes(path);
        var ptx = Nvrtc.CompileToPtx(source, file, Options(architecture));
        if (useCache) TryWriteAtomically(path, ptx);
        return ptx;
    }

    public static string CacheFolder()
    {
        var root = Environment.GetEnvironmentVariable("LLMCOURSE_CACHE");
        if (string.IsNullOrEmpty(root))
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            root = Path.Combine(!string.IsNullOrEmpty(xdg) ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "llmcourse");
        }
        return Path.Combine(root, "cuda-kernels");
    }

    /// <summary>A cache that cannot be written (read-only home) only costs a recompile next time.</summary>
    static void TryWriteAtomically(string path, byte[] bytes)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, path, overwrite: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
