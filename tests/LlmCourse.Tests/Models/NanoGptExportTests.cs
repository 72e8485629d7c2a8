using System.Diagnostics;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;
using LlmCourse.Training;

namespace LlmCourse.Tests.Models;

/// <summary>
/// A trained Gpt exported with nanoGPT's parameter names: the names and shapes nanoGPT's model.py
/// has, and (with Debian's python3-torch) the same logits and loss from nanoGPT's model in PyTorch,
/// through tests/parity/check_nanogpt_export.py.
/// </summary>
public sealed class NanoGptExportTests(ITestOutputHelper output)
{
    static readonly CharTokenizer Letters = new("abcdefghijklm");

    /// <summary>A small GPT after a few AdamW steps, so biases, norms and weights are no longer at their initial values.</summary>
    static Gpt Trained(bool bias)
    {
        var config = new GptConfig(VocabSize: 13, BlockSize: 16, Layers: 2, Heads: 2, Embedding: 16, Bias: bias);
        var model = new Gpt(config, Letters, new Generator(11));
        var random = new Random(5);
        var text = Enumerable.Range(0, 2_000).Select(i => (i * 7 + random.Next(3)) % 13).ToArray();
        new Trainer(model, text[..1_600], text[1_600..], new TrainingOptions
        {
            Steps = 8, BatchSize = 4, WarmupSteps = 1, LearningRate = 1e-2f, EvalInterval = 8, EvalBatches = 1,
        }).Run();
        return model;
    }

    [Fact]
    public void StateDict_HasNanoGptsNamesAndShapes_WithTheOutputLayerTiedToTheEmbedding()
    {
        var model = Trained(bias: true);

        var state = model.NanoGptStateDict();

        // nanoGPT's model.py, GPT(GPTConfig(n_layer=2, n_head=2, n_embd=16, block_size=16, vocab_size=13, bias=True)).state_dict(), by hand.
        var expected = new Dictionary<string, int[]>
        {
            ["transformer.wte.weight"] = [13, 16],
            ["transformer.wpe.weight"] = [16, 16],
            ["transformer.ln_f.weight"] = [16],
            ["transformer.ln_f.bias"] = [16],
            ["lm_head.weight"] = [13, 16],
        };
        for (var layer = 0; layer < 2; layer++)
        {
            var h = $"transformer.h.{layer}.";
            expected[h + "ln_1.weight"] = [16];
            expected[h + "ln_1.bias"] = [16];
            expected[h + "attn.c_attn.weight"] = [48, 16];   // (out, in), as torch.nn.Linear
            expected[h + "attn.c_attn.bias"] = [48];
            expected[h + "attn.c_proj.weight"] = [16, 16];
            expected[h + "attn.c_proj.bias"] = [16];
            expected[h + "ln_2.weight"] = [16];
            expected[h + "ln_2.bias"] = [16];
            expected[h + "mlp.c_fc.weight"] = [64, 16];
            expected[h + "mlp.c_fc.bias"] = [64];
            expected[h + "mlp.c_proj.weight"] = [16, 64];
            expected[h + "mlp.c_proj.bias"] = [16];
        }
        Assert.Equal(expected.Keys.Order(), state.Keys.Order());
        foreach (var (name, shape) in expected) Assert.Equal(shape, state[name].Shape.ToArray());
        Assert.Equal(state["transformer.wte.weight"].ToArray(), state["lm_head.weight"].ToArray());

        var noBias = Trained(bias: false).NanoGptStateDict();
        Assert.DoesNotContain(noBias.Keys, k => k.EndsWith(".bias", StringComparison.Ordinal));
        Assert.Equal(expected.Keys.Count(k => !k.EndsWith(".bias", StringComparison.Ordinal)), noBias.Count);
    }

    [Fact]
    public void Export_WritesTheConfigAndReloadsIntoOurModel()
    {
        var model = Trained(bias: false);
        var dir = Directory.CreateTempSubdirectory("llmcourse-nanogpt-");
        try
        {
            var path = Path.Combine(dir.FullName, "ckpt.safetensors");
            model.ExportNanoGpt(path);

            var (tensors, metadata) = Safetensors.LoadWithMetadata(path);
            Assert.Equal("2", metadata["n_layer"]);
            Assert.Equal("16", metadata["n_embd"]);
            Assert.Equal("13", metadata["vocab_size"]);
            Assert.Equal("False", metadata["bias"]);
            // Back under our own names (dropping the prefix and the tied copy), it is the same model.
            var copy = new Gpt(model.Config, Letters, new Generator(99));
            copy.LoadStateDict(tensors.Where(t => t.Key != "lm_head.weight").ToDictionary(t => t.Key["transformer.".Length..], t => t.Value));
            var tokens = Tensor.FromArray(new[] { 1, 2, 3, 4, 5, 6 }, 1, 6);
            using (Autograd.NoGrad())
                Assert.Equal(model.Forward(tokens).ToArray(), copy.Forward(tokens).ToArray());
            Assert.Throws<ArgumentException>(() => model.ExportNanoGpt(Path.Combine(dir.FullName, "ckpt.pt")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Export_LoadsIntoNanoGptInPyTorch_WithTheSameLogitsAndLoss(bool bias)
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python))
        {
            Assert.Skip($"{python} is not installed: the PyTorch check of the nanoGPT export needs Debian's python3 and python3-torch");
            return;
        }
        var model = Trained(bias);
        var dir = Directory.CreateTempSubdirectory("llmcourse-nanogpt-");
        try
        {
            var checkpoint = Path.Combine(dir.FullName, "ckpt.safetensors");
            model.ExportNanoGpt(checkpoint);
            int[] tokenIds = [1, 4, 2, 8, 5, 7, 12, 0, 3, 3, 9, 11, 6, 2, 0, 10, 5, 1, 2, 3];
            int[] targetIds = [.. tokenIds[1..], 4];
            var tokens = Tensor.FromArray(tokenIds, 2, 10);
            var targets = Tensor.FromArray(targetIds, 2, 10);
            Tensor logits, loss;
            using (model.Inference())
            {
                logits = model.Forward(tokens);
                loss = model.Loss(tokens, targets);
            }
            var expected = Path.Combine(dir.FullName, "expected.safetensors");
            Safetensors.Save(expected, new Dictionary<string, Tensor> { ["tokens"] = tokens, ["targets"] = targets, ["logits"] = logits, ["loss"] = loss });

            var script = Path.Combine(RepoRoot(), "tests", "parity", "check_nanogpt_export.py");
            var (code, text) = Run(python, script, checkpoint, expected);
            output.WriteLine(text);
            if (code == 3)
            {
                Assert.Skip($"{text.Trim()}: the nanoGPT export is checked by loading it into PyTorch");
                return;
            }
            Assert.True(code == 0, $"check_nanogpt_export.py (exit {code}):\n{text}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "course.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no course.sln above {AppContext.BaseDirectory}");
    }

    static (int Code, string Text) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(180_000))
        {
            process.Kill();
            return (-1, "timed out after 3 minutes");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
