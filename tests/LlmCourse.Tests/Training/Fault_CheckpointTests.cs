using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Text;
using LlmCourse.TestSupport;
using LlmCourse.Tokenizers;
using LlmCourse.Training;

namespace LlmCourse.Tests.Training;

/// <summary>
/// Checkpoints that do not fit, and targets that cannot be written: each error names the file and the
/// cause, and nothing is lost (the trainer is as it was; a checkpoint already on disk is unchanged).
/// </summary>
[Collection(nameof(GlobalGenerator))]
public sealed class Fault_CheckpointTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("llmcourse-ckpt-").FullName;
    public void Dispose() => Directory.Delete(root, recursive: true);

    static readonly string Text = TinyPlays.Generate(20_000, seed: 5);
    static readonly CharTokenizer Chars = CharTokenizer.FromText(Text);
    static readonly int[] Train = Chars.Encode(Text[..18_000]);
    static readonly int[] Validation = Chars.Encode(Text[18_000..]);

    static (Trainer Trainer, Gpt Gpt) NewTrainer(int embedding = 16, int layers = 1)
    {
        var gpt = new Gpt(new GptConfig(Chars.VocabSize, BlockSize: 16, Layers: layers, Heads: 2, Embedding: embedding), Chars, new Generator(1));
        return (new Trainer(gpt, Train, Validation, new TrainingOptions { Steps = 4, BatchSize = 2, WarmupSteps = 1, EvalInterval = 2, EvalBatches = 1 }), gpt);
    }

    string Checkpoint()
    {
        var path = Path.Combine(root, "run.safetensors");
        var (trainer, _) = NewTrainer();
        trainer.Run(untilStep: 2);
        trainer.SaveCheckpoint(path);
        return path;
    }

    static float[][] Weights(Gpt gpt) =>
        gpt.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value.ToArray()).ToArray();

    static void RefusedAndUnchanged((Trainer Trainer, Gpt Gpt) run, string path, params string[] named)
    {
        var (trainer, gpt) = run;
        var before = Weights(gpt);
        var e = Assert.Throws<InvalidDataException>(() => trainer.Resume(path));
        Assert.StartsWith($"Trainer.Resume: {path} ", e.Message);
        foreach (var part in named) Assert.Contains(part, e.Message);
        Assert.Equal(0, trainer.Step);
        Assert.Equal(before, Weights(gpt));
    }

    [Fact]
    public void Fault_ResumeFromAnotherModelConfig_NamesTheModelsAndTheShapes_AndLoadsNothing()
    {
        var path = Checkpoint();
        var other = NewTrainer(embedding: 32);
        RefusedAndUnchanged(other, path, "does not fit this trainer", "[62,16] in the file, [62,32] here".Replace("62", Chars.VocabSize.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            "Resume with the model configuration");
        var deeper = NewTrainer(layers: 2);
        RefusedAndUnchanged(deeper, path, "'h.1.", "is missing from the file");
    }

    [Fact]
    public void Fault_ResumeFromAFileOfWeightsOnly_SaysItIsNotATrainerCheckpoint_AndWhatLoadsIt()
    {
        var path = Path.Combine(root, "weights.safetensors");
        var run = NewTrainer();
        run.Gpt.Save(path);

        RefusedAndUnchanged(run, path, "is not a trainer checkpoint", "model.Load(path)");
    }

    [Fact]
    public void Fault_ResumeFromAFileThatIsNotSafetensors_IsNamed()
    {
        var path = Path.Combine(root, "notes.txt");
        File.WriteAllText(path, "these are my notes, not a checkpoint\n");

        RefusedAndUnchanged(NewTrainer(), path, "cannot be read as a checkpoint", "not a safetensors file");
    }

    [Fact]
    public void Fault_ResumeFromATruncatedCheckpoint_IsNamed_AndLoadsNothing()
    {
        var path = Checkpoint();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);

        RefusedAndUnchanged(NewTrainer(), path, "cannot be read as a checkpoint: it is truncated", "outside the");
    }

    [Fact]
    public void Fault_ACheckpointTargetOnAFullDisk_FailsNamingIt_AndKeepsTheCheckpointAlreadyThere()
    {
        using var disk = FaultyDisk.Full(kilobytes: 16);
        var path = Path.Combine(disk.Path, "run.safetensors");
        var good = Enumerable.Range(0, 4000).Select(i => (byte)i).ToArray();
        File.WriteAllBytes(path, good);   // stands for the last good checkpoint
        var (trainer, _) = NewTrainer();
        trainer.Run(untilStep: 2);

        var e = Assert.Throws<IOException>(() => trainer.SaveCheckpoint(path));

        Assert.StartsWith($"Trainer: the checkpoint of step 2 could not be written to {path}", e.Message);
        Assert.Contains("No space left on device", e.Message);
        Assert.Contains("The checkpoint already there is unchanged", e.Message);
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(disk.Path));   // no temporary file left behind
        Assert.Equal(2, trainer.Step);
    }

    [Fact]
    public void Fault_AnUnwritableCheckpointFolder_FailsNamingIt()
    {
        using var disk = FaultyDisk.ReadOnly();
        var path = Path.Combine(disk.Path, "runs", "run.safetensors");

        var e = Assert.Throws<IOException>(() => NewTrainer().Trainer.SaveCheckpoint(path));

        Assert.StartsWith($"Trainer: the checkpoint of step 0 could not be written to {path}", e.Message);
        Assert.Contains("choose a writable CheckpointPath", e.Message);
    }
}
