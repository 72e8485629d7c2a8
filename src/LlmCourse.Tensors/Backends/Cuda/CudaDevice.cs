using LlmCourse.Tensors.Backends.Cuda.Native;
using System.Collections.Concurrent;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// One GPU as the backend sees it: its primary context (made current on whichever thread calls), one
/// stream that every kernel, copy and cuBLAS call of the device is queued on (so work is ordered
/// without events), the cuBLAS handle, the caching allocator, and the kernels, compiled by NVRTC for
/// this GPU's architecture on first use.
/// </summary>
internal sealed unsafe class CudaDevice
{
    [ThreadStatic] static IntPtr currentContext;

    readonly IntPtr context;
    readonly ConcurrentDictionary<string, (IntPtr Module, Dictionary<string, int[]> Signatures)> modules = new();
    readonly ConcurrentDictionary<(string, string), (IntPtr Function, int[]? Parameters)> functions = new();
    readonly Lazy<CublasHandle> cublas;

    public CudaDevice(int ordinal)
    {
        Ordinal = ordinal;
        var count = CudaDriver.DeviceCount();
        if (ordinal >= count)
            throw new CudaException(count == 0
                ? $"Device cuda:{ordinal}: no CUDA GPU is usable. {CudaDriver.Unavailability()} Use Device.Cpu."
                : $"Device cuda:{ordinal}: this machine has {count} CUDA GPU(s), numbered 0 to {count - 1}.");
        Handle = CudaDriver.GetDevice(ordinal);
        Name = CudaDriver.DeviceName(Handle);
        ComputeCapability = CudaDriver.Attribute(Handle, CudaDriver.AttrComputeCapabilityMajor) * 10 +
                            CudaDriver.Attribute(Handle, CudaDriver.AttrComputeCapabilityMinor);
        Multiprocessors = CudaDriver.Attribute(Handle, CudaDriver.AttrMultiprocessorCount);
        TotalMemory = CudaDriver.TotalMemory(Handle);
        context = CudaDriver.RetainPrimaryContext(Handle);
        MakeCurrent();
        Stream = CudaDriver.CreateStream();
        Allocator = new CudaAllocator(this);
        Staging = new CudaHostStaging(this);
        Asserts = new CudaDeviceAsserts(this);
        cublas = new Lazy<CublasHandle>(() =>
        {
            if (!Native.Cublas.IsAvailable) throw new CudaException(Native.Cublas.LoadError!);
            MakeCurrent();
            return Native.Cublas.Create(Stream);
        });
    }

    public int Ordinal { get; }

    public int Handle { get; }

    public string Name { get; }

    /// <summary>Major * 10 + minor, e.g. 90 for an H100/H200.</summary>
    public int ComputeCapability { get; }

    public int Multiprocessors { get; }

    public long TotalMemory { get; }

    public IntPtr Stream { get; }

    public CudaAllocator Allocator { get; }

    /// <summary>The pinned buffers uploads go through (<see cref="CudaHostStaging"/>).</summary>
    public CudaHostStaging Staging { get; }

    /// <summary>The deferred checks' error slot, read by <see cref="Synchronize"/>.</summary>
    public CudaDeviceAsserts Asserts { get; }

    long hostWaits;

    /// <summary>
    /// How many times the host has waited for this device's stream (<see cref="Synchronize"/>: every read-back,
    /// <c>Cuda.Synchronize()</c>, a profiled kernel; <see cref="WaitFor"/>: an upload that found every staging buffer busy). A training step should add one, its loss read-back: tests
    /// count with it.
    /// </summary>
    public long HostWaits => Interlocked.Read(ref hostWaits);

    public CublasHandle Blas => cublas.Value;

    /// <summary>Makes this device's context current on the calling thread (cheap when it already is).</summary>
    public void MakeCurrent()
    {
        if (currentContext == context) return;
        CudaDriver.SetCurrent(context);
        currentContext = context;
    }

    /// <summary>
    /// Waits for every queued kernel and copy, then reports a deferred check that failed meanwhile
    /// (<see cref="CudaDeviceAsserts.Report"/>): read-backs go through here, so that is where they surface.
    /// </summary>
    public void Synchronize()
    {
        WaitIdle();
        Asserts.Report();
    }

    /// <summary>Waits for the stream without looking at the error slot (the allocator's cache release: a failed check stays pending for the next read-back).</summary>
    public void WaitIdle()
    {
        MakeCurrent();
        Interlocked.Increment(ref hostWaits);
        CudaDriver.SynchronizeStream(Stream);
    }

    /// <summary>Waits until the work queued before <paramref name="event"/>'s record has finished (a host wait, counted).</summary>
    public void WaitFor(IntPtr @event)
    {
        MakeCurrent();
        Interlocked.Increment(ref hostWaits);
        CudaDriver.SynchronizeEvent(@event);
    }

    /// <summary>
    /// A kernel of one of the embedded files, compiled (or read from the disk cache) and loaded on first use,
    /// with its parameter list (from the PTX), to check each launch's arguments against.
    /// </summary>
    (IntPtr Function, int[]? Parameters) Kernel(string file, string kernel) =>
        functions.TryGetValue((file, kernel), out var loaded) ? loaded : LoadKernel(file, kernel);

    (IntPtr Function, int[]? Parameters) LoadKernel(string file, string kernel) => functions.GetOrAdd((file, kernel), key =>
    {
        MakeCurrent();
        var (module, signatures) = modules.GetOrAdd(key.Item1, f =>
        {
            if (!Nvrtc.IsAvailable) throw new CudaException(Nvrtc.LoadError!);
            var architecture = CudaKernelCompiler.TargetArchitecture(ComputeCapability);
            var ptx = CudaKernelCompiler.Ptx(f, architecture);
            var parsed = CudaKernelSignature.Parse(System.Text.Encoding.ASCII.GetString(ptx));
            try
            {
                return (CudaDriver.LoadModule(ptx), parsed);
            }
            catch (CudaException e)
            {
                throw new CudaException($"Loading {f} (PTX from {Nvrtc.LibraryName} {Nvrtc.Version()}, compute_{architecture}) failed: {e.Message}. " +
                    "A driver older than the NVRTC that made the PTX cannot load it: update the driver or use an NVRTC no newer than it.", e);
            }
        });
        // cuModuleGetFunction names a missing kernel; a kernel whose PTX parameters were not understood goes unchecked.
        return (CudaDriver.GetFunction(module, key.Item2), signatures.GetValueOrDefault(key.Item2));
    });

    /// <summary>Threads per block of the element-wise kernels, and their grid for n elements (grid-stride loops cover the rest).</summary>
    public const int Threads = 256;

    public uint GridFor(long n) => (uint)Math.Max(1, Math.Min((n + Threads - 1) / Threads, (long)Multiprocessors * 32));

    public void Launch(string file, string kernel, uint gridX, uint gridY, uint block, uint sharedBytes, ref KernelArgs args) =>
        Launch(file, kernel, gridX, gridY, 1, block, sharedBytes, ref args);

    public void Launch(string file, string kernel, uint gridX, uint gridY, uint gridZ, uint block, uint sharedBytes, ref KernelArgs args)
    {
        var (function, parameters) = Kernel(file, kernel);
        if (parameters is not null) CudaKernelSignature.Check(kernel, parameters, args.Codes);
        MakeCurrent();
        var pointers = stackalloc void*[args.Count];
        args.Pointers(pointers);
        CudaDriver.Launch(function, kernel, gridX, gridY, gridZ, block, sharedBytes, Stream, pointers);
    }

    /// <summary>An element-wise launch over n elements; nothing is launched for n = 0.</summary>
    public void LaunchElementwise(string file, string kernel, long n, ref KernelArgs args)
    {
        if (n == 0) return;
        Launch(file, kernel, GridFor(n), 1, Threads, 0, ref args);
    }
}
