using System.Diagnostics;
using System.Globalization;
using System.Text;
using LlmCourse.Text;
using LlmCourse.Tokenizers;
using Microsoft.ML.Tokenizers;

namespace LlmCourse.Bench;

/// <summary>
/// GPT-2 encoding throughput against Microsoft.ML.Tokenizers' tiktoken encoder, measured in the same
/// process on the same texts: TinyShakespeare (English, ASCII) and <see cref="MixedText"/> (C# source,
/// markdown, many scripts, emoji). Each timed run uses fresh tokenizers on both sides, so neither
/// side's cache of pre-token ids carries over: what is measured is encoding a new text, not a lookup.
/// js-tiktoken (bench/anchors/bpe_encode.mjs) runs too where node is installed.
/// Options: --repeats N (default 5), --mixed-mb M (default 1).
/// </summary>
public sealed class BpeEncodeBenchmark : Benchmark
{
    public override string Name => "bpe-encode";

    public override string Description => "GPT-2 encoding (MB/s) of TinyShakespeare and mixed text, vs Microsoft.ML.Tokenizers (and js-tiktoken)";

    public override BenchResult Run(BenchOptions options)
    {
        var repeats = options.Int("repeats", 5);
        var path = Datasets.GetPath("tinyshakespeare");
        var shakespeare = File.ReadAllText(path);
        var mixed = MixedText.Build(options.Int("mixed-mb", 1) * 1_000_000);
        var gpt2 = Gpt2Tokenizer.Load();
        var version = typeof(TiktokenTokenizer).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0];
        Console.WriteLine($"  anchor: Microsoft.ML.Tokenizers {version}, TiktokenTokenizer.CreateForModel(\"gpt2\"), same process");

        var onShakespeare = Compare("TinyShakespeare", shakespeare, gpt2, repeats);
        var onMixed = Compare("mixed text", mixed, gpt2, repeats);
        Console.WriteLine(onMixed with { Name = Name + " (mixed text, vs ML.Tokenizers)" });

        try
        {
            var js = RunAnchor("node", "bpe_encode.mjs", path, repeats.ToString(CultureInfo.InvariantCulture));
            Console.WriteLine(onShakespeare with { Name = Name + " (TinyShakespeare, vs js-tiktoken)", Anchor = js });
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Console.WriteLine($"  [js-tiktoken] not run: {e.Message.Split('\n')[0]}");
        }
        return onShakespeare with { Name = Name + " (TinyShakespeare, vs ML.Tokenizers)" };
    }

    /// <summary>Best-of-N MB/s of both encoders on one text, each run on fresh instances; checks the ids agree.</summary>
    static BenchResult Compare(string label, string text, RegexBpeTokenizer gpt2, int repeats)
    {
        var megabytes = Encoding.UTF8.GetByteCount(text) / 1e6;
        int[] ours = [], theirs = [];
        double oursBest = double.MaxValue, theirsBest = double.MaxValue;
        // Interleaved, so that a burst of load on a shared machine hits both sides alike.
        for (var run = -1; run < repeats; run++)
        {
            var fresh = new RegexBpeTokenizer(gpt2.Vocabulary, gpt2.Pattern, gpt2.SpecialTokens, "r50k_base");
            var microsoft = TiktokenTokenizer.CreateForModel("gpt2");
            var watch = Stopwatch.StartNew();
            ours = fresh.Encode(text, allowedSpecial: SpecialTokens.All); // as EncodeToIds: special tokens recognised
            var oursSeconds = watch.Elapsed.TotalSeconds;
            watch.Restart();
            theirs = microsoft.EncodeToIds(text).ToArray();
            var theirsSeconds = watch.Elapsed.TotalSeconds;
            if (run < 0) continue; // warm-up: JIT and tiered compilation on both sides
            oursBest = Math.Min(oursBest, oursSeconds);
            theirsBest = Math.Min(theirsBest, theirsSeconds);
        }
        var same = ours.AsSpan().SequenceEqual(theirs);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {label}: {megabytes:F2} MB, {ours.Length} tokens ({(same ? "same ids" : "IDS DIFFER")}); best of {repeats}: " +
            $"ours {megabytes / oursBest:F2} MB/s, ML.Tokenizers {megabytes / theirsBest:F2} MB/s, ratio {theirsBest / oursBest:F2}"));
        return new BenchResult(label, megabytes / oursBest, megabytes / theirsBest, "MB/s");
    }
}
