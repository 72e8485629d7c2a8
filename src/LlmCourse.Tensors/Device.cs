using LlmCourse.Tensors.Backends.Cuda;
using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tensors;

public enum DeviceType
{
    Cpu,
    Cuda,
}

/// <summary>
/// Where a tensor's storage lives and whose kernels run its ops. Model code never branches on the
/// device: every op asks its inputs' device for its <see cref="Backend"/>, so a CUDA backend plugs in
/// here without touching the ops.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed class Device : IEquatable<Device>
{
    static readonly Lock gate = new();
    static readonly Dictionary<int, Device> cudaDevices = [];
    static Device defaultDevice = new(DeviceType.Cpu, 0);

    Backend? backend;

    Device(DeviceType type, int index)
    {
        Type = type;
        Index = index;
    }

    public DeviceType Type { get; }

    public int Index { get; }

    public static Device Cpu { get; } = defaultDevice;

    /// <summary>The device factories use when none is given.</summary>
    public static Device Default
    {
        get => defaultDevice;
        set => defaultDevice = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>True when the CUDA driver (libcuda) loads and reports at least one GPU. <see cref="Tensors.Cuda"/> says more.</summary>
    public static bool IsCudaAvailable => Tensors.Cuda.DeviceCount > 0;

    /// <summary>
    /// A CUDA device. Creating the value always works (so code can name it); the first op that
    /// allocates on it throws when CUDA is not available.
    /// </summary>
    public static Device Cuda(int index = 0)
    {
        if (index < 0) throw new ArgumentOutOfRangeException(nameof(index), index, "A CUDA device index is >= 0.");
        lock (gate)
        {
            if (!cudaDevices.TryGetValue(index, out var device))
                cudaDevices[index] = device = new Device(DeviceType.Cuda, index);
            return device;
        }
    }

    /// <summary>
    /// The device's kernels; a CUDA device's backend (context, stream, allocator) is created by the first
    /// op on it. While an <see cref="OpProfiler"/> records, the kernels come wrapped in its timer.
    /// </summary>
    internal Backend Backend => OpProfiler.Active is { } profiler ? profiler.Wrap(OwnBackend) : OwnBackend;

    Backend OwnBackend => backend ??= Type switch
    {
        DeviceType.Cpu => CpuBackend.Instance,
        _ => CudaBackend.For(Index),
    };

    public bool Equals(Device? other) => other is not null && other.Type == Type && other.Index == Index;

    public override bool Equals(object? obj) => Equals(obj as Device);

    public override int GetHashCode() => HashCode.Combine(Type, Index);

    public static bool operator ==(Device? a, Device? b) => a is null ? b is null : a.Equals(b);

    public static bool operator !=(Device? a, Device? b) => !(a == b);

    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Index}";
}
