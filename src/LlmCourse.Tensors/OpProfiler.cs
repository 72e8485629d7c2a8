using System.Diagnostics;
using System.Globalization;
using System.Text;
using LlmCourse.Tensors.Backends;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tensors;

/// <summary>
/// Where a computation spends its time, kernel by kernel: while a profiler is recording, every call
/// a tensor op makes to its device's kernels (<c>Backend</c>) is timed and added up by section and
/// kernel. The sections are "forward" (the default), "backward" (inside <c>Backward()</c>, set by the
/// autograd engine) and any a caller names with <see cref="Section"/> (the trainer names "optimizer"
/// for clipping and the AdamW update). PyTorch's <c>torch.profiler</c> answers the same question.
/// <code>
/// using var profile = OpProfiler.Start();
/// trainer.Run(10);
/// profile.Stop();
/// Console.WriteLine(profile.Format());   // families × sections, then the slowest kernels
/// </code>
/// On a GPU each kernel is waited for before its clock stops (kernels are queued, not run, when
/// called), so a profiled run is slower than an unprofiled one and its time is the kernels' own.
/// Time spent outside kernels (autograd bookkeeping, shape checks, the garbage collector, the caller's
/// own code) is reported as the rest of the wall time.
/// A notebook cell ending with a profiler shows its <see cref="Format"/> report.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed class OpProfiler : IDisposable
{
    static OpProfiler? active;

    /// <summary>The section of the thread that calls the kernels (null: forward). Per thread, so that two
    /// threads training side by side (tests, a notebook's background cell) do not swap each other's.</summary>
    [ThreadStatic] static string? section;

    public const string ForwardSection = "forward";
    public const string BackwardSection = "backward";
    public const string OptimizerSection = "optimizer";

    readonly Lock gate = new();
    readonly Dictionary<(string Section, string Kernel), (long Calls, long Ticks)> totals = [];
    readonly long started = Stopwatch.GetTimestamp();
    long stopped;

    OpProfiler() { }

    /// <summary>Starts recording every kernel call in the process. One profiler records at a time.</summary>
    public static OpProfiler Start()
    {
        var profiler = new OpProfiler();
        if (Interlocked.CompareExchange(ref active, profiler, null) is not null)
            throw new InvalidOperationException("OpProfiler.Start: a profiler is already recording; Stop() or Dispose() it first.");
        return profiler;
    }

    /// <summary>The profiler recording now, or null (read by <c>Device.Backend</c> on every op).</summary>
    internal static OpProfiler? Active => Volatile.Read(ref active);

    /// <summary>
    /// Until the returned scope is disposed, kernel calls made on this thread count under
    /// <paramref name="name"/> (scopes nest; disposing one restores the section before it). Costs
    /// nothing when no profiler records.
    /// </summary>
    public static SectionScope Section(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var previous = section ?? ForwardSection;
        section = name;
        return new SectionScope(previous);
    }

    /// <summary>Restores the section that was current when <see cref="Section"/> was called.</summary>
    public readonly struct SectionScope : IDisposable
    {
        readonly string? previous;
        internal SectionScope(string previous) => this.previous = previous;
        public void Dispose()
        {
            if (previous is not null) section = previous;
        }
    }

    /// <summary>True until <see cref="Stop"/>.</summary>
    public bool IsRecording => Active == this;

    /// <summary>Stops recording (the totals stay readable). Stopping twice is harmless.</summary>
    public void Stop()
    {
        if (Interlocked.CompareExchange(ref active, null, this) == this) stopped = Stopwatch.GetTimestamp();
    }

    public void Dispose() => Stop();

    /// <summary>Wall time from <see cref="Start"/> to <see cref="Stop"/> (or to now while recording).</summary>
    public TimeSpan WallTime => Stopwatch.GetElapsedTime(started, IsRecording || stopped == 0 ? Stopwatch.GetTimestamp() : stopped);

    /// <summary>Every (section, kernel) recorded, slowest first.</summary>
    public IReadOnlyList<KernelTiming> Kernels
    {
        get
        {
            lock (gate)
                return totals
                    .Select(e => new KernelTiming(e.Key.Section, e.Key.Kernel, KernelFamilies.Of(e.Key.Kernel), e.Value.Calls,
                        TimeSpan.FromSeconds(e.Value.Ticks / (double)Stopwatch.Frequency)))
                    .OrderByDescending(k => k.Time).ThenBy(k => k.Section).ThenBy(k => k.Kernel)
                    .ToArray();
        }
    }

    /// <summary>The kernels' time summed by family and section, largest family first.</summary>
    public IReadOnlyList<FamilyTiming> Families =>
        Kernels.GroupBy(k => (k.Family, k.Section))
            .Select(g => new FamilyTiming(g.Key.Family, g.Key.Section, g.Sum(k => k.Calls), TimeSpan.FromTicks(g.Sum(k => k.Time.Ticks))))
            .OrderByDescending(f => f.Time)
            .ToArray();

    /// <summary>Time in kernels, all sections together.</summary>
    public TimeSpan KernelTime => TimeSpan.FromTicks(Kernels.Sum(k => k.Time.Ticks));

    readonly Dictionary<Backend, ProfilingBackend> wrappers = [];

    /// <summary>The timing wrapper around a device's backend (one per backend, made on first use).</summary>
    internal Backend Wrap(Backend backend)
    {
        lock (gate)
        {
            if (!wrappers.TryGetValue(backend, out var wrapper)) wrappers[backend] = wrapper = new ProfilingBackend(backend, this);
            return wrapper;
        }
    }

    /// <summary>Called by the profiling backend after each kernel.</summary>
    internal void Record(string kernel, long ticks)
    {
        var key = (section ?? ForwardSection, kernel);
        lock (gate)
        {
            totals.TryGetValue(key, out var total);
            totals[key] = (total.Calls + 1, total.Ticks + ticks);
        }
    }

    /// <summary>
    /// A plain-text report: milliseconds per family (rows) and section (columns) with each family's
    /// share of the wall time, the time outside kernels, then the <paramref name="top"/> slowest kernels.
    /// </summary>
    public string Format(int top = 12)
    {
        var inv = CultureInfo.InvariantCulture;
        var wall = WallTime.TotalMilliseconds;
        var families = Families;
        var sections = families.Select(f => f.Section).Distinct()
            .OrderBy(s => s switch { ForwardSection => 0, BackwardSection => 1, OptimizerSection => 2, _ => 3 }).ThenBy(s => s).ToArray();
        var text = new StringBuilder();
        text.Append(inv, $"{"family",-16}");
        foreach (var s in sections) text.Append(inv, $"{s + " ms",14}");
        text.AppendLine(inv, $"{"total ms",12}{"of wall",9}");
        foreach (var family in families.Select(f => f.Family).Distinct())
        {
            text.Append(inv, $"{family,-16}");
            var sum = 0.0;
            foreach (var s in sections)
            {
                var ms = families.Where(f => f.Family == family && f.Section == s).Sum(f => f.Time.TotalMilliseconds);
                sum += ms;
                text.Append(ms > 0 ? string.Format(inv, "{0,14:F1}", ms) : $"{"",14}");
            }
            text.AppendLine(inv, $"{sum,12:F1}{sum / wall,9:P0}");
        }
        var inKernels = KernelTime.TotalMilliseconds;
        var pad = new string(' ', 14 * sections.Length);
        text.AppendLine(inv, $"{"outside kernels",-16}{pad}{wall - inKernels,12:F1}{(wall - inKernels) / wall,9:P0}");
        text.AppendLine(inv, $"{"wall",-16}{pad}{wall,12:F1}");
        text.AppendLine();
        text.AppendLine(inv, $"{"slowest kernels",-32}{"section",-11}{"calls",8}{"ms",10}{"µs/call",10}");
        foreach (var k in Kernels.Take(top))
            text.AppendLine(inv, $"{k.Kernel,-32}{k.Section,-11}{k.Calls,8}{k.Time.TotalMilliseconds,10:F1}{k.Time.TotalMicroseconds / k.Calls,10:F1}");
        return text.ToString();
    }

    /// <summary>The <see cref="Format"/> report.</summary>
    public override string ToString() => Format();
}

/// <summary>One kernel's calls and time within one section.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record KernelTiming(string Section, string Kernel, string Family, long Calls, TimeSpan Time);

/// <summary>One family's calls and time within one section.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record FamilyTiming(string Family, string Section, long Calls, TimeSpan Time);
