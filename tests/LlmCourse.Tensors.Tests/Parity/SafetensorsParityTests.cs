using System.Diagnostics;

namespace LlmCourse.Tensors.Tests.Parity;

/// <summary>
/// Our safetensors reader against a file written independently in Python from the format's
/// specification (engine_dtypes.safetensors), and our writer against a strict Python reader
/// (tests/parity/check_safetensors.py) and PyTorch's own bf16/f16 rounding.
/// </summary>
[Trait("Category", "Parity")]
public sealed class SafetensorsParityTests(ITestOutputHelper output)
{
    [Fact]
    public void ReadsEveryDTypeFromAnIndependentlyWrittenFile()
    {
        var t = Fixtures.File("dtypes");
        Assert.Equal(["bf16", "bf16_as_f32", "empty", "f16", "f16_as_f32", "f32", "i32", "scalar"], t.Keys.Order().ToArray());

        Assert.Equal(DType.Float32, t["f32"].DType);
        Assert.Equal([2, 3, 4], t["f32"].Shape);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => i * 0.5f - 1).ToArray(), t["f32"].ToArray());

        Assert.Equal(DType.Int32, t["i32"].DType);
        Assert.Equal([3, 2], t["i32"].Shape);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => i * 7 - 20).ToArray(), t["i32"].ToInt32Array());

        // The half-precision values are exactly representable, so the conversion back is exact.
        Assert.Equal(DType.BFloat16, t["bf16"].DType);
        Assert.Equal(t["bf16_as_f32"].ToArray(), t["bf16"].To(DType.Float32).ToArray());
        Assert.Equal(DType.Float16, t["f16"].DType);
        Assert.Equal(t["f16_as_f32"].ToArray(), t["f16"].To(DType.Float32).ToArray());

        Assert.Equal(0, t["scalar"].Rank);
        Assert.Equal(3.25f, t["scalar"].Item());
        Assert.Equal([0, 3], t["empty"].Shape);
        Assert.Equal(0, t["empty"].Count);
    }

    [Fact]
    public void ReadsTheMetadata()
    {
        var path = Path.Combine(Fixtures.Directory, "engine_dtypes.safetensors");
        var (_, metadata) = Safetensors.LoadWithMetadata(path);
        Assert.Equal("pt", metadata["format"]);
        Assert.Equal("tests/parity/safetensors_io.py", metadata["written_by"]);
    }

    [Fact]
    public void SavedFileIsReadableByASpecFollowingReader()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python))
        {
            Assert.Skip($"{python} is not installed; the reverse check of Safetensors.Save runs tests/parity/check_safetensors.py");
            return;
        }
        var source = Tensor.Randn([64], new Generator(42)) * 10f;   // values that need rounding to 16 bits
        var tensors = new Dictionary<string, Tensor>
        {
            // Inserted out of order: the writer must sort the keys.
            ["scalar"] = Tensor.Scalar(3.25f),
            ["f32"] = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => i * 0.5f - 1).ToArray(), 2, 3, 4),
            ["i32"] = Tensor.FromArray(Enumerable.Range(0, 6).Select(i => i * 7 - 20).ToArray(), 3, 2),
            ["source"] = source,
            ["bf16"] = source.To(DType.BFloat16),
            ["f16"] = source.To(DType.Float16),
        };
        var dir = Directory.CreateTempSubdirectory("llmcourse-safetensors-");
        try
        {
            var path = Path.Combine(dir.FullName, "engine.safetensors");
            Safetensors.Save(path, tensors, new Dictionary<string, string> { ["course"] = "llm", ["text"] = "ünïcödé €" });
            var script = Path.Combine(Fixtures.RepoRoot, "tests", "parity", "check_safetensors.py");
            var code = Run(python, [script, path], out var text);
            output.WriteLine(text);
            if (code == 3)
            {
                Assert.Skip($"{text.Trim()}: the reverse check of Safetensors.Save needs PyTorch's bf16/f16 rounding");
                return;
            }
            Assert.True(code == 0, $"check_safetensors.py rejected the file written by Safetensors.Save:\n{text}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    static int Run(string file, string[] args, out string text)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill();
            text = "timed out";
            return -1;
        }
        text = stdout.Result + stderr.Result;
        return process.ExitCode;
    }
}
