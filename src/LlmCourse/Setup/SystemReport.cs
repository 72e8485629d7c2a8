using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text;
using LlmCourse.Charts;
using LlmCourse.Text;
using LlmCourse.Tensors.Formatting;
using LlmCourse.Training;

namespace LlmCourse.Setup;

/// <summary>Where a catalog dataset was found, and whether its SHA-256 matched.</summary>
[LlmCourse.Tensors.Formatting.TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record DatasetStatus(string Name, string File, DatasetState State, string? Path, string Detail);

public enum DatasetState
{
    /// <summary>A copy with the catalog's SHA-256 is on disk.</summary>
    Verified,

    /// <summary>A copy is on disk but its hash is wrong: it will not be used.</summary>
    Mismatch,

    /// <summary>Not on disk: it will be downloaded on first use (or fail offline).</summary>
    Missing,
}

/// <summary>
/// What this machine offers the course: .NET, the OS, the CPU and its vector instructions (the
/// kernels use AVX-512 or AVX2 with FMA when present), threads and memory, CUDA libraries, and where
/// the datasets are read from. <c>llmcourse doctor</c> prints it; lesson 00 displays it.
/// </summary>
public sealed class SystemReport : View
{
    public required string DotNet { get; init; }
    public required string OperatingSystem { get; init; }
    public required string Architecture { get; init; }
    public required string CpuModel { get; init; }
    public required int Threads { get; init; }
    public required long MemoryBytes { get; init; }
    public required IReadOnlyList<(string Name, bool Supported)> CpuFeatures { get; init; }
    public required IReadOnlyList<NativeLibraryStatus> Cuda { get; init; }

    /// <summary>Whether the engine's CUDA backend can run here, and if not, why (<see cref="Tensors.Cuda.Problems"/>).</summary>
    public required string GpuBackend { get; init; }
    public required string? DataDirectory { get; init; }
    public required string CacheDirectory { get; init; }
    public required IReadOnlyList<DatasetStatus> Datasets { get; init; }
    public required bool QuickMode { get; init; }

    /// <summary>Why LLMCOURSE_QUICK could not be read (the doctor shows it instead of failing), or null.</summary>
    public string? QuickModeProblem { get; init; }

    public bool CudaDriverFound => Cuda.Count > 0 && Cuda[0].Found;

    /// <summary>The widest vector instructions the kernels can use here.</summary>
    public string VectorWidth => Vector512.IsHardwareAccelerated ? "512-bit (AVX-512)"
        : Vector256.IsHardwareAccelerated ? "256-bit (AVX2)"
        : Vector128.IsHardwareAccelerated ? "128-bit" : "none (scalar)";

    public static SystemReport Collect() => Collect(DatasetStore.Default);

    public static SystemReport Collect(DatasetStore store) => new()
    {
        DotNet = $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier})",
        OperatingSystem = RuntimeInformation.OSDescription,
        Architecture = RuntimeInformation.ProcessArchitecture.ToString(),
        CpuModel = CpuModelName(),
        Threads = Environment.ProcessorCount,
        MemoryBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        CpuFeatures =
        [
            ("SSE4.2", Sse42.IsSupported), ("AVX", Avx.IsSupported), ("AVX2", Avx2.IsSupported), ("FMA", Fma.IsSupported),
            ("AVX-512F", Avx512F.IsSupported), ("AVX-512BW", Avx512BW.IsSupported), ("AVX-512 VBMI", Avx512Vbmi.IsSupported),
            ("Arm AdvSIMD", System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported),
        ],
        Cuda = NativeProbe.Cuda(),
        GpuBackend = GpuBackendStatus(),
        DataDirectory = store.DataDirectory,
        CacheDirectory = store.CacheDirectory,
        Datasets = DatasetCatalog.All.Select(d => Check(store, d)).ToArray(),
        QuickMode = QuickOrProblem(out var quickProblem),
        QuickModeProblem = quickProblem,
    };

    static bool QuickOrProblem(out string? problem)
    {
        problem = null;
        try { return Course.IsQuick; }
        catch (InvalidOperationException e)
        {
            problem = e.Message;
            return false;
        }
    }

    static string GpuBackendStatus()
    {
        try
        {
            if (!Tensors.Cuda.IsAvailable) return $"not usable: {Tensors.Cuda.Unavailability}";
            var gpu = Tensors.Cuda.Describe();
            if (!Tensors.Cuda.IsUsable)
                return $"not usable: {gpu.Name} is there, but {string.Join(" ", Tensors.Cuda.Problems)} (the engine compiles its kernels " +
                       "with NVRTC and multiplies with cuBLAS; the driver alone is not enough)";
            var peak = ModelFlops.DataSheetPeak(gpu.Name);
            return $"usable: Device.Cuda(0) is {gpu}; " +
                   (peak is null ? "no data-sheet peak known, so no MFU (set TrainingOptions.PeakFlops)" : $"MFU against {peak}") +
                   (gpu.Major < 8 ? "; compute capability below 8.0: no bf16 tensor cores, autocast's attention runs on the float32 kernels" : "");
        }
        catch (Exception e) when (e is Tensors.CudaException or InvalidOperationException)
        {
            return $"not usable: {e.Message}";
        }
    }

    static DatasetStatus Check(DatasetStore store, DatasetInfo dataset)
    {
        var places = new[] { store.DataDirectory, store.CacheDirectory }.Where(p => p is not null).Select(p => System.IO.Path.Combine(p!, dataset.File));
        DatasetStatus? mismatch = null;
        foreach (var path in places)
        {
            if (!File.Exists(path)) continue;
            var sha = DatasetStore.Sha256Of(path);
            var expected = store.ExpectedSha256(dataset);
            if (expected is null)
                return new DatasetStatus(dataset.Name, dataset.File, DatasetState.Missing, path,
                    "the catalog has no SHA-256 and none is recorded yet: it is recorded at the first use");
            if (string.Equals(sha, expected, StringComparison.OrdinalIgnoreCase))
                return new DatasetStatus(dataset.Name, dataset.File, DatasetState.Verified, path,
                    dataset.IsHashPinned ? "SHA-256 matches the catalog" : "SHA-256 matches the one recorded at the first download");
            mismatch ??= new DatasetStatus(dataset.Name, dataset.File, DatasetState.Mismatch, path,
                $"SHA-256 {sha[..12]}… is not the expected {expected[..Math.Min(12, expected.Length)]}…: this copy is not used");
        }
        return mismatch ?? new DatasetStatus(dataset.Name, dataset.File, DatasetState.Missing, null,
            $"not found; downloaded from {dataset.Url} on first use (offline: put it in ${DatasetStore.DataVariable})");
    }

    static string CpuModelName()
    {
        try
        {
            if (System.OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo"))
                return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
                    ?.Split(':', 2)[1].Trim() ?? "unknown";
            if (System.OperatingSystem.IsWindows())
                return Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? "unknown";
            if (System.OperatingSystem.IsMacOS())
            {
                using var sysctl = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sysctl", "-n machdep.cpu.brand_string")
                    { RedirectStandardOutput = true, UseShellExecute = false });
                var name = sysctl?.StandardOutput.ReadToEnd().Trim();
                sysctl?.WaitForExit();
                return string.IsNullOrEmpty(name) ? "unknown" : name;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception) { }
        return "unknown";
    }

    /// <summary>(section, item, value) rows shared by the text and HTML forms.</summary>
    public IReadOnlyList<(string Section, string Item, string Value)> Rows()
    {
        var rows = new List<(string, string, string)>
        {
            (".NET", "runtime", DotNet),
            ("machine", "OS", OperatingSystem),
            ("machine", "CPU", $"{CpuModel} ({Architecture})"),
            ("machine", "threads", Threads.ToString(CultureInfo.InvariantCulture)),
            ("machine", "memory", $"{MemoryBytes / (1024.0 * 1024 * 1024):0.#} GiB available to .NET"),
            ("machine", "vectors", VectorWidth),
            ("machine", "CPU features", string.Join(", ", CpuFeatures.Where(f => f.Supported).Select(f => f.Name)) is { Length: > 0 } f ? f : "none detected"),
        };
        foreach (var library in Cuda)
            rows.Add(("CUDA", library.Name, (library.Found ? "found" : "not found") + (library.Detail is null ? "" : $" ({library.Detail})")));
        rows.Add(("CUDA", "engine backend", GpuBackend));
        rows.Add(("data", "LLMCOURSE_DATA", DataDirectory ?? "not set"));
        rows.Add(("data", "cache", CacheDirectory));
        foreach (var d in Datasets)
            rows.Add(("data", d.Name, d.State switch
            {
                DatasetState.Verified => $"verified at {d.Path}",
                DatasetState.Mismatch => $"WRONG COPY at {d.Path}: {d.Detail}",
                _ => d.Detail,
            }));
        rows.Add(("course", "mode", QuickModeProblem is { } problem ? $"not understood: {problem}"
            : QuickMode ? "quick (LLMCOURSE_QUICK=1: tiny budgets)" : "full"));
        return rows;
    }

    public override string ToString()
    {
        var rows = Rows();
        var width = rows.Max(r => r.Item.Length);
        var text = new StringBuilder();
        string? section = null;
        foreach (var (s, item, value) in rows)
        {
            if (s != section) text.AppendLine(s);
            section = s;
            text.Append("  ").Append(item.PadRight(width)).Append("  ").AppendLine(value);
        }
        return text.ToString().TrimEnd();
    }

    public override string ToHtml()
    {
        var html = new StringBuilder("<table class=\"llmcourse-system\" style=\"border-collapse:collapse;font-family:")
            .Append(Svg.FontFamily).Append(";font-size:14px\">");
        string? section = null;
        foreach (var (s, item, value) in Rows())
        {
            if (s != section)
                html.Append("<tr><th colspan=\"2\" style=\"text-align:left;padding:8px 10px 2px;border-bottom:2px solid #444\">")
                    .Append(WebUtility.HtmlEncode(s)).Append("</th></tr>");
            section = s;
            var warn = value.StartsWith("WRONG", StringComparison.Ordinal);
            html.Append("<tr><td style=\"padding:3px 10px;color:#555;white-space:nowrap\">").Append(WebUtility.HtmlEncode(item))
                .Append("</td><td style=\"padding:3px 10px").Append(warn ? ";color:#cf222e;font-weight:600" : "").Append("\">")
                .Append(WebUtility.HtmlEncode(value)).Append("</td></tr>");
        }
        return html.Append("</table>").ToString();
    }
}
