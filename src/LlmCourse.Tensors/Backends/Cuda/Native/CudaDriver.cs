using System.Runtime.InteropServices;
using System.Text;

namespace LlmCourse.Tensors.Backends.Cuda.Native;

/// <summary>
/// The CUDA driver API (<c>libcuda.so.1</c>), the calls the backend uses, each through <see cref="Check"/>,
/// which throws with the call's name and <c>cuGetErrorString</c>'s text. Resolved once, as function pointers.
/// </summary>
internal static unsafe class CudaDriver
{
    static readonly string[] Sonames = ["libcuda.so.1", "libcuda.so", "nvcuda.dll"];

    public const int CUDA_SUCCESS = 0;
    public const int CUDA_ERROR_OUT_OF_MEMORY = 2;
    public const int CUDA_ERROR_NO_DEVICE = 100;
    public const int CUDA_ERROR_NOT_READY = 600;

    // CUdevice_attribute values (cuda.h)
    public const int AttrMultiprocessorCount = 16;
    public const int AttrComputeCapabilityMajor = 75;
    public const int AttrComputeCapabilityMinor = 76;
    public const int AttrMaxSharedMemoryPerBlockOptin = 97;

    static readonly Lazy<Api?> api = new(Load);
    static string? loadError;

    sealed class Api
    {
        public required NativeLibraryHandle Library;
        public required delegate* unmanaged<uint, int> cuInit;
        public required delegate* unmanaged<int*, int> cuDriverGetVersion;
        public required delegate* unmanaged<int*, int> cuDeviceGetCount;
        public required delegate* unmanaged<int*, int, int> cuDeviceGet;
        public required delegate* unmanaged<byte*, int, int, int> cuDeviceGetName;
        public required delegate* unmanaged<int*, int, int, int> cuDeviceGetAttribute;
        public required delegate* unmanaged<nuint*, int, int> cuDeviceTotalMem;
        public required delegate* unmanaged<IntPtr*, int, int> cuDevicePrimaryCtxRetain;
        public required delegate* unmanaged<int, int> cuDevicePrimaryCtxRelease;
        public required delegate* unmanaged<IntPtr, int> cuCtxSetCurrent;
        public required delegate* unmanaged<int> cuCtxSynchronize;
        public required delegate* unmanaged<ulong*, nuint, int> cuMemAlloc;
        public required delegate* unmanaged<ulong, int> cuMemFree;
        public required delegate* unmanaged<nuint*, nuint*, int> cuMemGetInfo;
        public required delegate* unmanaged<ulong, void*, nuint, IntPtr, int> cuMemcpyHtoDAsync;
        public required delegate* unmanaged<void*, ulong, nuint, IntPtr, int> cuMemcpyDtoHAsync;
        public required delegate* unmanaged<ulong, ulong, nuint, IntPtr, int> cuMemcpyDtoDAsync;
        public required delegate* unmanaged<ulong, uint, nuint, IntPtr, int> cuMemsetD32Async;
        public required delegate* unmanaged<ulong, ushort, nuint, IntPtr, int> cuMemsetD16Async;
        public required delegate* unmanaged<IntPtr*, uint, int> cuStreamCreate;
        public required delegate* unmanaged<IntPtr, int> cuStreamDestroy;
        public required delegate* unmanaged<IntPtr, int> cuStreamSynchronize;
        public required delegate* unmanaged<void**, nuint, uint, int> cuMemHostAlloc;
        public required delegate* unmanaged<void*, int> cuMemFreeHost;
        public required delegate* unmanaged<IntPtr*, uint, int> cuEventCreate;
        public required delegate* unmanaged<IntPtr, IntPtr, int> cuEventRecord;
        public required delegate* unmanaged<IntPtr, int> cuEventQuery;
        public required delegate* unmanaged<IntPtr, int> cuEventSynchronize;
        public required delegate* unmanaged<IntPtr*, void*, int> cuModuleLoadData;
        public required delegate* unmanaged<IntPtr, int> cuModuleUnload;
        public required delegate* unmanaged<IntPtr*, IntPtr, byte*, int> cuModuleGetFunction;
        public required delegate* unmanaged<IntPtr, int, int, int> cuFuncSetAttribute;
        public required delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int> cuLaunchKernel;
        public required delegate* unmanaged<int, byte**, int> cuGetErrorString;
        public required delegate* unmanaged<int, byte**, int> cuGetErrorName;
    }

    static Api? Load()
    {
        var lib = NativeLibraryHandle.TryLoad(Sonames);
        if (lib is null)
        {
            loadError = NativeLibraryHandle.Describe("The CUDA driver (libcuda)", Sonames,
                "Install the NVIDIA driver (it ships libcuda.so.1), or in a container run with the GPU exposed (docker --gpus all); or use Device.Cpu.");
            return null;
        }
        try
        {
            return new Api
            {
                Library = lib,
                cuInit = (delegate* unmanaged<uint, int>)lib.Export("cuInit"),
                cuDriverGetVersion = (delegate* unmanaged<int*, int>)lib.Export("cuDriverGetVersion"),
                cuDeviceGetCount = (delegate* unmanaged<int*, int>)lib.Export("cuDeviceGetCount"),
                cuDeviceGet = (delegate* unmanaged<int*, int, int>)lib.Export("cuDeviceGet"),
                cuDeviceGetName = (delegate* unmanaged<byte*, int, int, int>)lib.Export("cuDeviceGetName"),
                cuDeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)lib.Export("cuDeviceGetAttribute"),
                cuDeviceTotalMem = (delegate* unmanaged<nuint*, int, int>)lib.Export("cuDeviceTotalMem_v2"),
                cuDevicePrimaryCtxRetain = (delegate* unmanaged<IntPtr*, int, int>)lib.Export("cuDevicePrimaryCtxRetain"),
                cuDevicePrimaryCtxRelease = (delegate* unmanaged<int, int>)lib.Export("cuDevicePrimaryCtxRelease_v2"),
                cuCtxSetCurrent = (delegate* unmanaged<IntPtr, int>)lib.Export("cuCtxSetCurrent"),
                cuCtxSynchronize = (delegate* unmanaged<int>)lib.Export("cuCtxSynchronize"),
                cuMemAlloc = (delegate* unmanaged<ulong*, nuint, int>)lib.Export("cuMemAlloc_v2"),
                cuMemFree = (delegate* unmanaged<ulong, int>)lib.Export("cuMemFree_v2"),
                cuMemGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)lib.Export("cuMemGetInfo_v2"),
                cuMemcpyHtoDAsync = (delegate* unmanaged<ulong, void*, nuint, IntPtr, int>)lib.Export("cuMemcpyHtoDAsync_v2"),
                cuMemcpyDtoHAsync = (delegate* unmanaged<void*, ulong, nuint, IntPtr, int>)lib.Export("cuMemcpyDtoHAsync_v2"),
                cuMemcpyDtoDAsync = (delegate* unmanaged<ulong, ulong, nuint, IntPtr, int>)lib.Export("cuMemcpyDtoDAsync_v2"),
                cuMemsetD32Async = (delegate* unmanaged<ulong, uint, nuint, IntPtr, int>)lib.Export("cuMemsetD32Async"),
                cuMemsetD16Async = (delegate* unmanaged<ulong, ushort, nuint, IntPtr, int>)lib.Export("cuMemsetD16Async"),
                cuStreamCreate = (delegate* unmanaged<IntPtr*, uint, int>)lib.Export("cuStreamCreate"),
                cuStreamDestroy = (delegate* unmanaged<IntPtr, int>)lib.Export("cuStreamDestroy_v2"),
                cuStreamSynchronize = (delegate* unmanaged<IntPtr, int>)lib.Export("cuStreamSynchronize"),
                cuMemHostAlloc = (delegate* unmanaged<void**, nuint, uint, int>)lib.Export("cuMemHostAlloc"),
                cuMemFreeHost = (delegate* unmanaged<void*, int>)lib.Export("cuMemFreeHost"),
                cuEventCreate = (delegate* unmanaged<IntPtr*, uint, int>)lib.Export("cuEventCreate"),
                cuEventRecord = (delegate* unmanaged<IntPtr, IntPtr, int>)lib.Export("cuEventRecord"),
                cuEventQuery = (delegate* unmanaged<IntPtr, int>)lib.Export("cuEventQuery"),
                cuEventSynchronize = (delegate* unmanaged<IntPtr, int>)lib.Export("cuEventSynchronize"),
                cuModuleLoadData = (delegate* unmanaged<IntPtr*, void*, int>)lib.Export("cuModuleLoadData"),
                cuModuleUnload = (delegate* unmanaged<IntPtr, int>)lib.Export("cuModuleUnload"),
                cuModuleGetFunction = (delegate* unmanaged<IntPtr*, IntPtr, byte*, int>)lib.Export("cuModuleGetFunction"),
                cuFuncSetAttribute = (delegate* unmanaged<IntPtr, int, int, int>)lib.Export("cuFuncSetAttribute"),
                cuLaunchKernel = (delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int>)lib.Export("cuLaunchKernel"),
                cuGetErrorString = (delegate* unmanaged<int, byte**, int>)lib.Export("cuGetErrorString"),
                cuGetErrorName = (delegate* unmanaged<int, byte**, int>)lib.Export("cuGetErrorName"),
            };
        }
        catch (CudaException e)
        {
            loadError = e.Message;
            return null;
        }
    }

    /// <summary>True when libcuda loaded (says nothing about GPUs; see <see cref="DeviceCount"/>).</summary>
    public static bool IsLoaded => api.Value is not null;

    /// <summary>Why the driver is unusable, or null when it loaded.</summary>
    public static string? LoadError => api.Value is null ? loadError : null;

    public static string? LibraryName => api.Value?.Library.Name;

    static Api A => api.Value ?? throw new CudaException(loadError ?? "The CUDA driver could not be loaded.");

    /// <summary>The one checked wrapper of every driver call: throws with the call's name and CUDA's error text.</summary>
    public static void Check(int status, string call)
    {
        if (status != CUDA_SUCCESS) throw new CudaException($"{call} failed: {ErrorText(status)}");
    }

    public static string ErrorText(int status)
    {
        var a = api.Value;
        if (a is null) return $"CUDA error {status}";
        byte* name = null, text = null;
        a.cuGetErrorName(status, &name);
        a.cuGetErrorString(status, &text);
        return $"{(name is null ? "CUDA_ERROR_" + status : Marshal.PtrToStringUTF8((IntPtr)name))} ({status}): " +
               (text is null ? "unknown error" : Marshal.PtrToStringUTF8((IntPtr)text));
    }

    static readonly Lazy<int> initStatus = new(() => A.cuInit(0));

    /// <summary>cuInit once per process; throws with CUDA's reason when it fails.</summary>
    public static void Init() => Check(initStatus.Value, "cuInit");

    /// <summary>Number of GPUs, 0 when the driver is missing or cuInit fails (no GPU, no permission).</summary>
    public static int DeviceCount()
    {
        if (!IsLoaded || initStatus.Value != CUDA_SUCCESS) return 0;
        int count;
        return A.cuDeviceGetCount(&count) == CUDA_SUCCESS ? count : 0;
    }

    /// <summary>Why no GPU is usable ("" when one is): for messages and doctor.</summary>
    public static string Unavailability()
    {
        if (!IsLoaded) return LoadError!;
        if (initStatus.Value != CUDA_SUCCESS) return $"cuInit failed: {ErrorText(initStatus.Value)}";
        return DeviceCount() == 0 ? "The CUDA driver loaded but reports no GPU." : "";
    }

    public static int DriverVersion()
    {
        int v;
        Check(A.cuDriverGetVersion(&v), "cuDriverGetVersion");
        return v;
    }

    public static int GetDevice(int ordinal)
    {
        Init();
        int d;
        Check(A.cuDeviceGet(&d, ordinal), $"cuDeviceGet({ordinal})");
        return d;
    }

    public static string DeviceName(int device)
    {
        var buffer = stackalloc byte[256];
        Check(A.cuDeviceGetName(buffer, 256, device), "cuDeviceGetName");
        return Marshal.PtrToStringUTF8((IntPtr)buffer) ?? "";
    }

    public static int Attribute(int device, int attribute)
    {
        int v;
        Check(A.cuDeviceGetAttribute(&v, attribute, device), $"cuDeviceGetAttribute({attribute})");
        return v;
    }

    public static long TotalMemory(int device)
    {
        nuint bytes;
        Check(A.cuDeviceTotalMem(&bytes, device), "cuDeviceTotalMem_v2");
        return (long)bytes;
    }

    public static IntPtr RetainPrimaryContext(int device)
    {
        IntPtr ctx;
        Check(A.cuDevicePrimaryCtxRetain(&ctx, device), "cuDevicePrimaryCtxRetain");
        return ctx;
    }

    public static int ReleasePrimaryContext(int device) => A.cuDevicePrimaryCtxRelease(device);

    public static void SetCurrent(IntPtr context) => Check(A.cuCtxSetCurrent(context), "cuCtxSetCurrent");

    public static int TrySetCurrent(IntPtr context) => A.cuCtxSetCurrent(context);

    public static void Synchronize() => Check(A.cuCtxSynchronize(), "cuCtxSynchronize");

    /// <summary>cuMemAlloc's status is returned, not thrown: the caching allocator retries after out-of-memory.</summary>
    public static int TryAlloc(long bytes, out ulong pointer)
    {
        ulong p;
        var status = A.cuMemAlloc(&p, (nuint)bytes);
        pointer = p;
        return status;
    }

    public static int Free(ulong pointer) => A.cuMemFree(pointer);

    public static (long Free, long Total) MemoryInfo()
    {
        nuint free, total;
        Check(A.cuMemGetInfo(&free, &total), "cuMemGetInfo_v2");
        return ((long)free, (long)total);
    }

    public static void CopyHostToDevice(ulong destination, void* source, long bytes, IntPtr stream) =>
        Check(A.cuMemcpyHtoDAsync(destination, source, (nuint)bytes, stream), "cuMemcpyHtoDAsync_v2");

    public static void CopyDeviceToHost(void* destination, ulong source, long bytes, IntPtr stream) =>
        Check(A.cuMemcpyDtoHAsync(destination, source, (nuint)bytes, stream), "cuMemcpyDtoHAsync_v2");

    public static void CopyDeviceToDevice(ulong destination, ulong source, long bytes, IntPtr stream) =>
        Check(A.cuMemcpyDtoDAsync(destination, source, (nuint)bytes, stream), "cuMemcpyDtoDAsync_v2");

    public static void Memset32(ulong destination, uint value, long count, IntPtr stream) =>
        Check(A.cuMemsetD32Async(destination, value, (nuint)count, stream), "cuMemsetD32Async");

    public static void Memset16(ulong destination, ushort value, long count, IntPtr stream) =>
        Check(A.cuMemsetD16Async(destination, value, (nuint)count, stream), "cuMemsetD16Async");

    public static IntPtr CreateStream()
    {
        IntPtr s;
        Check(A.cuStreamCreate(&s, 1 /* CU_STREAM_NON_BLOCKING */), "cuStreamCreate");
        return s;
    }

    public static int DestroyStream(IntPtr stream) => A.cuStreamDestroy(stream);

    public static void SynchronizeStream(IntPtr stream) => Check(A.cuStreamSynchronize(stream), "cuStreamSynchronize");

    /// <summary>Page-locked host memory (the GPU copies from it by DMA, with no staging); cuMemHostAlloc's status is returned, not thrown.</summary>
    public static int TryAllocHost(long bytes, out IntPtr pointer)
    {
        void* p;
        var status = A.cuMemHostAlloc(&p, (nuint)bytes, 0);
        pointer = (IntPtr)p;
        return status;
    }

    public static int FreeHost(IntPtr pointer) => A.cuMemFreeHost((void*)pointer);

    public static IntPtr CreateEvent()
    {
        IntPtr e;
        Check(A.cuEventCreate(&e, 2 /* CU_EVENT_DISABLE_TIMING: cheaper to record and query */), "cuEventCreate");
        return e;
    }

    public static void RecordEvent(IntPtr @event, IntPtr stream) => Check(A.cuEventRecord(@event, stream), "cuEventRecord");

    /// <summary>True when the work queued before the event's record has finished; does not wait.</summary>
    public static bool EventDone(IntPtr @event)
    {
        var status = A.cuEventQuery(@event);
        if (status == CUDA_ERROR_NOT_READY) return false;
        Check(status, "cuEventQuery");
        return true;
    }

    public static void SynchronizeEvent(IntPtr @event) => Check(A.cuEventSynchronize(@event), "cuEventSynchronize");

    public static IntPtr LoadModule(byte[] image)
    {
        IntPtr module;
        fixed (byte* p = image) Check(A.cuModuleLoadData(&module, p), "cuModuleLoadData");
        return module;
    }

    public static int UnloadModule(IntPtr module) => A.cuModuleUnload(module);

    public static IntPtr GetFunction(IntPtr module, string name)
    {
        IntPtr f;
        var bytes = Encoding.ASCII.GetBytes(name + "\0");
        fixed (byte* p = bytes) Check(A.cuModuleGetFunction(&f, module, p), $"cuModuleGetFunction({name})");
        return f;
    }

    /// <summary>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8.</summary>
    public static void SetMaxDynamicSharedMemory(IntPtr function, int bytes) =>
        Check(A.cuFuncSetAttribute(function, 8, bytes), "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)");

    public static void Launch(IntPtr function, string name, uint gridX, uint gridY, uint gridZ, uint block, uint sharedBytes,
        IntPtr stream, void** args) =>
        Check(A.cuLaunchKernel(function, gridX, gridY, gridZ, block, 1, 1, sharedBytes, stream, args, null), $"cuLaunchKernel({name})");
}
