using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;
using LlmCourse.Text;
using LlmCourse.Tokenizers;
using LlmCourse.Training;

namespace LlmCourse.Tests.Training;

/// <summary>The trainer reseeds <see cref="Generator.Default"/> every step, so these tests run one at a time.</summary>
[CollectionDefinition(nameof(GlobalGenerator), DisableParallelization = true)]
public sealed class GlobalGenerator;

[Collection(nameof(GlobalGenerator))]
public sealed class TrainerTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("llmcourse-trainer-").FullName;
    public void Dispose() => Directory.Delete(root, recursive: true);

    static readonly string Text = TinyPlays.Generate(30_000, seed: 11);
    static readonly CharTokenizer Chars = CharTokenizer.FromText(Text);
    static readonly int[] TrainTokens = Chars.Encode(Text[..27_000]);
    static readonly int[] ValidationTokens = Chars.Encode(Text[27_000..]);

    static Gpt SmallGpt(ulong seed, float dropout = 0.1f) =>
        new(new GptConfig(Chars.VocabSize, BlockSize: 16, Layers: 1, Heads: 2, Embedding: 16, Dropout: dropout), Chars, new Generator(seed));

    static TrainingOptions Options(int steps) => new()
    {
        Steps = steps, BatchSize = 4, WarmupSteps = 3, EvalInterval = 4, EvalBatches = 2, LearningRate = 3e-3f,
    };

    [Fact]
    public void Resume_ContinuesTheLossCurveBitForBit()
    {
        var path = Path.Combine(root, "run.safetensors");
        // With dropout, so the per-step generator seeding is exercised too.
        var full = new Trainer(SmallGpt(1), TrainTokens, ValidationTokens, Options(12));
        full.Run(untilStep: 6);
        full.SaveCheckpoint(path);
        var uninterrupted = full.Run().Losses;

        var resumed = new Trainer(SmallGpt(99), TrainTokens, ValidationTokens, Options(12));
        resumed.Resume(path);
        Assert.Equal(6, resumed.Step);
        var continued = resumed.Run().Losses;

        Assert.Equal(12, continued.Length);
        Assert.Equal(uninterrupted, continued);   // exact: every double, steps 1–12 (1–6 from the checkpoint's history)
        Assert.Equal(full.History.Evaluations.Select(e => e.ValidationLoss), resumed.History.Evaluations.Select(e => e.ValidationLoss));
    }

    [Fact]
    public void Resume_OfASequentialLstm_CarriesItsStateAcrossTheCheckpoint()
    {
        var path = Path.Combine(root, "lstm.safetensors");
        RecurrentLanguageModel Lstm(ulong seed) => new(new RecurrentConfig(Chars.VocabSize, RecurrentKind.Lstm, 8, 16, BlockSize: 8), Chars, new Generator(seed));
        // The checkpoint is written by the trainer itself, every 5 steps; the copy at step 5 is kept.
        var options = Options(10) with { BatchOrder = BatchOrder.Sequential, CheckpointPath = path, CheckpointInterval = 5 };
        var first = new Trainer(Lstm(1), TrainTokens, ValidationTokens, options);
        first.Run(untilStep: 5);
        File.Copy(path, path + ".5");
        var uninterrupted = first.Run().Losses;

        var resumed = new Trainer(Lstm(2), TrainTokens, ValidationTokens, options with { CheckpointPath = null });
        path += ".5";
        resumed.Resume(path);
        Assert.Equal(uninterrupted, resumed.Run().Losses);
    }

    [Fact]
    public void Training_LowersTheLoss_EvaluatesOnSchedule_AndFollowsTheLearningRateSchedule()
    {
        var progress = new List<TrainingProgress>();
        var trainer = new Trainer(SmallGpt(3, dropout: 0f), TrainTokens, ValidationTokens, Options(40) with { EvalInterval = 10, Progress = progress.Add });
        var history = trainer.Run();

        Assert.Equal([0, 10, 20, 30, 40], history.Evaluations.Select(e => e.Step));
        Assert.True(history.Evaluations[^1].ValidationLoss < history.Evaluations[0].ValidationLoss - 0.3,
            $"validation loss {history.Evaluations[0].ValidationLoss:F3} → {history.Evaluations[^1].ValidationLoss:F3}");
        Assert.Equal(Enumerable.Range(1, 40), progress.Select(p => p.Step));
        Assert.Equal(4, progress.Count(p => p.Evaluated));
        var schedule = new LlmCourse.Tensors.Optim.WarmupCosineLr(3e-3f, 1e-4f, 3, 40);
        Assert.Equal(Enumerable.Range(0, 40).Select(s => (double)schedule.At(s)), history.Steps.Select(s => s.LearningRate));
        Assert.All(history.Steps, s => Assert.True(s.TokensPerSecond > 0 && s.GradientNorm > 0));
    }

    [Fact]
    public void NaNGuard_StopsWithTheStepAndTheLastFiniteLoss()
    {
        var model = new PoisonedAt(SmallGpt(4), step: 5);
        var trainer = new Trainer(model, TrainTokens, ValidationTokens, Options(10));
        var e = Assert.Throws<NonFiniteLossException>(() => trainer.Run());
        Assert.Equal(5, e.Step);
        Assert.Equal(4, e.LastFiniteStep);
        Assert.Equal(trainer.History.Steps[^1].Loss, e.LastFiniteLoss);
        Assert.Contains("step 5", e.Message);
        Assert.Equal(4, trainer.Step);
    }

    [Fact]
    public void SequentialBatches_ContinueEachRow_AndRandomOnesDependOnlyOnTheStep()
    {
        var tokens = Enumerable.Range(0, 1000).ToArray();
        var sequential = new TokenBatches(tokens, 3, 10, BatchOrder.Sequential, seed: 1);
        var (x0, y0) = sequential.Batch(0);
        var (x1, _) = sequential.Batch(1);
        for (var b = 0; b < 3; b++)
        {
            Assert.Equal(x0[b, 9] + 1, x1[b, 0]);
            Assert.Equal(x0[b, 0] + 1, y0[b, 0]);
        }
        Assert.True(sequential.StartsPass(0) && !sequential.StartsPass(1) && sequential.StartsPass(sequential.BatchesPerPass));

        var random = new TokenBatches(tokens, 3, 10, BatchOrder.RandomWindows, seed: 1);
        Assert.Equal(random.Batch(7).Inputs.ToArray(), random.Batch(7).Inputs.ToArray());
        Assert.NotEqual(random.Batch(7).Inputs.ToArray(), random.Batch(8).Inputs.ToArray());
        Assert.Throws<ArgumentException>(() => new TokenBatches(tokens[..5], 3, 10, BatchOrder.RandomWindows, 1));
        Assert.Throws<ArgumentException>(() => new Trainer(SmallGpt(1), TrainTokens, ValidationTokens, Options(1) with { BatchOrder = BatchOrder.Sequential }));
    }

    /// <summary>A model whose loss turns NaN at one step, as a diverging run's would.</summary>
    sealed class PoisonedAt(Gpt inner, int step) : INeuralLanguageModel
    {
        int calls;
        public string Name => inner.Name;
        public ITokenizer Tokenizer => inner.Tokenizer;
        public Module Module => inner;
        public int ContextLength => inner.ContextLength;
        public Tensor Logits(Tensor inputs) => inner.Logits(inputs);
        public Tensor Loss(Tensor inputs, Tensor targets) =>
            Autograd.IsGradEnabled && ++calls == step ? inner.Loss(inputs, targets) * float.NaN : inner.Loss(inputs, targets);
        public (double Nats, int Predictions) NegativeLogLikelihood(int[] tokens) => inner.NegativeLogLikelihood(tokens);
        public string Generate(string prompt, int maxNewTokens, Sampling? sampling = null, int seed = 0) => inner.Generate(prompt, maxNewTokens, sampling, seed);
    }
}
