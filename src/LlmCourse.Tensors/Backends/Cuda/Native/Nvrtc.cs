using System.Runtime.InteropServices;
using System.Text;

namespace LlmCourse.Tensors.Backends.Cuda.Native;

/// <summary>
/// NVRTC, CUDA's run-time compiler: CUDA C++ source to PTX in process. Found by soname, newest first
/// (<c>libnvrtc.so.13</c>, <c>.12</c>, <c>.11.2</c>, the soname NVRTC 11.2 to 11.8 share), so a
/// machine with only Debian's NVRTC 11.8 (no GPU) compiles the kernels too.
/// </summary>
internal static unsafe class Nvrtc
{
    static readonly string[] Sonames = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"];

    sealed class Api
    {
        public required NativeLibraryHandle Library;
        public required delegate* unmanaged<int*, int*, int> nvrtcVersion;
        public required delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int> nvrtcCreateProgram;
        public required delegate* unmanaged<IntPtr*, int> nvrtcDestroyProgram;
        public required delegate* unmanaged<IntPtr, int, byte**, int> nvrtcCompileProgram;
        public required delegate* unmanaged<IntPtr, nuint*, int> nvrtcGetPTXSize;
        public required delegate* unmanaged<IntPtr, byte*, int> nvrtcGetPTX;
        public required delegate* unmanaged<IntPtr, nuint*, int> nvrtcGetProgramLogSize;
        public required delegate* unmanaged<IntPtr, byte*, int> nvrtcGetProgramLog;
        public required delegate* unmanaged<int, byte*> nvrtcGetErrorString;
        public required delegate* unmanaged<int*, int> nvrtcGetNumSupportedArchs;
        public required delegate* unmanaged<int*, int> nvrtcGetSupportedArchs;
    }

    static string? loadError;
    static readonly Lazy<Api?> api = new(() =>
    {
        var lib = NativeLibraryHandle.TryLoad(Sonames);
        if (lib is null)
        {
            loadError = NativeLibraryHandle.Describe("NVRTC (CUDA's run-time compiler, libnvrtc)", Sonames,
                "It ships with the CUDA toolkit and the PyTorch/pip package nvidia-cuda-nvrtc; on Debian bookworm without a GPU: " +
                "add 'non-free' to the apt sources and apt-get install libnvrtc11.2 libnvrtc-builtins11.8.");
            return null;
        }
        try
        {
            return new Api
            {
                Library = lib,
                nvrtcVersion = (delegate* unmanaged<int*, int*, int>)lib.Export("nvrtcVersion"),
                nvrtcCreateProgram = (delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int>)lib.Export("nvrtcCreateProgram"),
                nvrtcDestroyProgram = (delegate* unmanaged<IntPtr*, int>)lib.Export("nvrtcDestroyProgram"),
                nvrtcCompileProgram = (delegate* unmanaged<IntPtr, int, byte**, int>)lib.Export("nvrtcCompileProgram"),
                nvrtcGetPTXSize = (delegate* unmanaged<IntPtr, nuint*, int>)lib.Export("nvrtcGetPTXSize"),
                nvrtcGetPTX = (delegate* unmanaged<IntPtr, byte*, int>)lib.Export("nvrtcGetPTX"),
                nvrtcGetProgramLogSize = (delegate* unmanaged<IntPtr, nuint*, int>)lib.Export("nvrtcGetProgramLogSize"),
                nvrtcGetProgramLog = (delegate* unmanaged<IntPtr, byte*, int>)lib.Export("nvrtcGetProgramLog"),
                nvrtcGetErrorString = (delegate* unmanaged<int, byte*>)lib.Export("nvrtcGetErrorString"),
                nvrtcGetNumSupportedArchs = (delegate* unmanaged<int*, int>)lib.Export("nvrtcGetNumSupportedArchs"),
                nvrtcGetSupportedArchs = (delegate* unmanaged<int*, int>)lib.Export("nvrtcGetSupportedArchs"),
            };
        }
        catch (CudaException e)
        {
            loadError = e.Message;
            return null;
        }
    });

    public static bool IsAvailable => api.Value is not null;

    public static string? LoadError => api.Value is null ? loadError : null;

    public static string? LibraryName => api.Value?.Library.Name;

    static Api A => api.Value ?? throw new CudaException(loadError ?? "NVRTC could not be loaded.");

    /// <summary>The checked wrapper of every NVRTC call.</summary>
    public static void Check(int status, string call)
    {
        if (status != 0) throw new CudaException($"{call} failed: {ErrorText(status)}");
    }

    static string ErrorText(int status)
    {
        var text = api.Value is { } a ? a.nvrtcGetErrorString(status) : null;
        return text is null ? $"NVRTC error {status}" : $"{Marshal.PtrToStringUTF8((IntPtr)text)} ({status})";
    }

    public static (int Major, int Minor) Version()
    {
        int major, minor;
        Check(A.nvrtcVersion(&major, &minor), "nvrtcVersion");
        return (major, minor);
    }

    /// <summary>The compute_XY architectures this NVRTC can target, e.g. 90 for compute_90.</summary>
    public static int[] SupportedArchitectures()
    {
        int count;
        Check(A.nvrtcGetNumSupportedArchs(&count), "nvrtcGetNumSupportedArchs");
        var archs = new int[count];
        fixed (int* p = archs) Check(A.nvrtcGetSupportedArchs(p), "nvrtcGetSupportedArchs");
        return archs;
    }

    /// <summary>Compiles one translation unit to PTX; a compile error throws with NVRTC's log (file, line, message).</summary>
    public static byte[] CompileToPtx(string source, string fileName, IReadOnlyList<string> options)
    {
        using var program = Compile(source, fileName, options);
        var handle = program.DangerousGetHandle();
        nuint size;
        Check(A.nvrtcGetPTXSize(handle, &size), "nvrtcGetPTXSize");
        var ptx = new byte[(int)size];
        fixed (byte* p = ptx) Check(A.nvrtcGetPTX(handle, p), "nvrtcGetPTX");
        return ptx;
    }

    /// <summary>
    /// Compiles one translation unit and returns NVRTC's log. With a real architecture (<c>--gpu-architecture=sm_90</c>)
    /// and <c>--ptxas-options=-v</c> NVRTC runs ptxas, whose log gives each kernel's registers and spills: what a
    /// kernel will cost on a GPU, read on a machine without one (KernelResourceTests).
    /// </summary>
    public static string CompileLog(string source, string fileName, IReadOnlyList<string> options)
    {
        using var program = Compile(source, fileName, options);
        return Log(program.DangerousGetHandle());
    }

    static NvrtcProgramHandle Compile(string source, string fileName, IReadOnlyList<string> options)
    {
        var program = new NvrtcProgramHandle();
        var src = Encoding.UTF8.GetBytes(source + "\0");
        var name = Encoding.UTF8.GetBytes(fileName + "\0");
        IntPtr handle;
        fixed (byte* s = src, n = name) Check(A.nvrtcCreateProgram(&handle, s, n, 0, null, null), "nvrtcCreateProgram");
        program.Adopt(handle);

        var optionBytes = options.Select(o => Encoding.UTF8.GetBytes(o + "\0")).ToArray();
        var handles = optionBytes.Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
        int status;
        try
        {
            var pointers = stackalloc byte*[optionBytes.Length];
            for (var i = 0; i < optionBytes.Length; i++) pointers[i] = (byte*)handles[i].AddrOfPinnedObject();
            status = A.nvrtcCompileProgram(handle, optionBytes.Length, pointers);
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
        if (status != 0)
        {
            var log = Log(handle);
            program.Dispose();
            throw new CudaException($"nvrtcCompileProgram({fileName}, {string.Join(' ', options)}) failed: {ErrorText(status)}\n{log}");
        }
        return program;
    }

    static string Log(IntPtr program)
    {
        nuint size;
        if (A.nvrtcGetProgramLogSize(program, &size) != 0 || size <= 1) return "";
        var log = new byte[(int)size];
        fixed (byte* p = log) A.nvrtcGetProgramLog(program, p);
        return Encoding.UTF8.GetString(log, 0, log.Length - 1);
    }

    internal static int Destroy(IntPtr program) => A.nvrtcDestroyProgram(&program);
}

/// <summary>An NVRTC program, destroyed when disposed or collected.</summary>
internal sealed class NvrtcProgramHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    public void Adopt(IntPtr program) => SetHandle(program);

    protected override bool ReleaseHandle() => Nvrtc.Destroy(handle) == 0;
}
