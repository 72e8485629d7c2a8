using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace LlmCourse.Bench;

/// <summary>
/// A benchmark: our implementation and its anchor, measured in the same run on the same machine.
/// Add one by writing a class that derives from this; it is found by reflection.
/// </summary>
public abstract class Benchmark
{
    public abstract string Name { get; }
    public abstract string Description { get; }

    public abstract BenchResult Run(BenchOptions options);

    public static IReadOnlyList<Benchmark> Discover() =>
        typeof(Benchmark).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Benchmark)) && !t.IsAbstract)
            .Select(t => (Benchmark)Activator.CreateInstance(t)!)
            .ToArray();

    /// <summary>The repository root, found from the working directory or the benchmark's own folder.</summary>
    public static string RepoRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "course.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Could not find the repository root (the folder with course.sln).");
    }

    /// <summary>
    /// Runs an anchor (a Python or Node script under bench/anchors) and returns its last line of
    /// standard output, which by convention is a single number in the benchmark's unit.
    /// </summary>
    public static double RunAnchor(string program, string script, params string[] arguments)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoRoot(),
        };
        // The environment forces OpenBLAS to its Haswell kernel; the anchor runs at full strength
        // (bench/anchors/blas_strength.py says why and prints the kernel it used).
        info.Environment.Remove("OPENBLAS_CORETYPE");
        info.Environment.Remove("OPENBLAS_L2_SIZE");
        info.ArgumentList.Add(Path.Combine(RepoRoot(), "bench", "anchors", script));
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"Anchor {script} failed with exit code {process.ExitCode}:\n{stderr.Result}\n" +
                "Install the anchors with: apt-get install python3-torch python3-numpy libopenblas0-pthread (and node for js-tiktoken).");
        var lines = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var line in lines[..^1]) Console.WriteLine($"  [anchor] {line}");
        return double.Parse(lines[^1], CultureInfo.InvariantCulture);
    }

    /// <summary>Best-of-N wall time of an action, in seconds, after warm-up runs.</summary>
    public static double BestSeconds(Action action, int warmup, int repeats)
    {
        for (var i = 0; i < warmup; i++) action();
        var best = double.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return best;
    }
}

/// <summary>
/// The result line. <see cref="HigherIsBetter"/> says whether the unit is a rate (GFLOP/s, tokens/s)
/// or a time; the ratio is always oriented so that R > 1 means we are faster.
/// </summary>
public sealed record BenchResult(string Name, double Ours, double Anchor, string Unit, bool HigherIsBetter = true)
{
    public double Ratio => HigherIsBetter ? Ours / Anchor : Anchor / Ours;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}: ratio {Ratio:F2} (ours {Ours:G4}, anchor {Anchor:G4}, {Unit})");
}

/// <summary>Command-line options shared by benchmarks: <c>--threads N</c> and free-form <c>--key value</c> pairs.</summary>
public sealed class BenchOptions
{
    readonly Dictionary<string, string> values = new(StringComparer.OrdinalIgnoreCase);

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Unexpected argument '{args[i]}'; options look like --name value.");
            var key = args[i][2..];
            options.values[key] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
        }
        return options;
    }

    /// <summary>Threads for both sides; the targets are measured with 2.</summary>
    public int Threads => Int("threads", 2);

    public int Int(string key, int fallback) =>
        values.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public string String(string key, string fallback) => values.GetValueOrDefault(key, fallback);

    public bool Flag(string key) => values.ContainsKey(key);
}
