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
    public void Evaluations_IncludeTheLastStep_WhenTheIntervalDoesNotReachIt()
    {
        var history = new Trainer(SmallGpt(3, dropout: 0f), TrainTokens, ValidationTokens, Options(5) with { EvalInterval = 2 }).Run();
        Assert.Equal([0, 2, 4, 5], history.Evaluations.Select(e => e.Step));
    }

    [Fact]
    public void GradientAccumulation_StepSReadsBatchesSkToSkPlusKMinus1_InOrder()
    {
        // Two steps of two micro-batches: batches 0, 1 then 2, 3 of the stream, never one twice.
        var recorded = new RecordingSource(TrainTokens);
        var trainer = new Trainer(SmallGpt(5), recorded, new ArrayTokenSource(ValidationTokens), Options(2) with { GradientAccumulationSteps = 2, EvalInterval = 0 });
        recorded.Starts.Clear();   // the constructor drew the fixed evaluation batches (evaluations read no more)
        trainer.Run();
        var expected = new RecordingSource(TrainTokens);
        var batches = new TokenBatches(expected, 4, 16, BatchOrder.RandomWindows, trainer.Options.Seed);
        for (var i = 0; i < 4; i++) batches.Batch(i);
        Assert.Equal(16, expected.Starts.Count);
        Assert.Equal(expected.Starts, recorded.Starts);
    }

    [Fact]
    public void MicroBatchesOfOneStep_DrawTheirOwnDropoutMasks()
    {
        // A stream of one repeated character: every batch is the same. Without dropout, a step of two micro-batches
        // is then exactly a step of one (the mean of two equal gradients); with dropout it is not, unless both
        // micro-batches drew the same masks.
        var same = Enumerable.Repeat(TrainTokens[0], 2_000).ToArray();
        float[] After(float dropout, int accumulation)
        {
            var gpt = SmallGpt(6, dropout);
            new Trainer(gpt, same, same, Options(1) with { GradientAccumulationSteps = accumulation, EvalInterval = 0, EvalBatches = 1 }).Run();
            return gpt.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        Assert.Equal(After(0f, 1), After(0f, 2));
        // AdamW's first step moves a weight by about the learning rate (3e-3) in the direction of its gradient's sign, so
        // gradients from other masks move most weights differently by that much; the same masks would differ by rounding.
        var (one, two) = (After(0.5f, 1), After(0.5f, 2));
        var largest = one.Zip(two, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(largest > 1e-3, $"largest parameter difference {largest:E2}: the micro-batches drew the same dropout masks");
    }

    /// <summary>Records where each read of the token stream starts.</summary>
    sealed class RecordingSource(int[] tokens) : ITokenSource
    {
        readonly ArrayTokenSource inner = new(tokens);
        public List<long> Starts { get; } = [];
        public long Count => inner.Count;
        public void Read(long start, Span<int> destination)
        {
            Starts.Add(start);
            inner.Read(start, destination);
        }
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void NonFiniteLossGuard_StopsAtANaNOrAnInfinity(float poison)
    {
        var trainer = new Trainer(new PoisonedAt(SmallGpt(4), step: 3, poison), TrainTokens, ValidationTokens, Options(6));
        var e = Assert.Throws<NonFiniteLossException>(() => trainer.Run());
        Assert.Equal((3, 2), (e.Step, trainer.Step));
        // Stopped by the loss itself, before its backward pass turned the gradients into NaNs too.
        Assert.Contains($"the loss is {(double)poison}", e.Message);
    }

    [Fact]
    public void NonFiniteGuard_StopsAtAnInfiniteGradientNorm_BeforeTheUpdate()
    {
        // Step 3's loss is finite but its gradient is not: √(w − w) is 0 with an infinite derivative. The run stops at
        // step 3 naming the gradient norm, before an update that would have turned every weight into NaN.
        var gpt = SmallGpt(4);
        var trainer = new Trainer(new PoisonedAt(gpt, step: 3, gradient: true), TrainTokens, ValidationTokens, Options(6));
        var e = Assert.Throws<NonFiniteLossException>(() => trainer.Run());
        Assert.Equal(3, e.Step);
        Assert.Contains("gradient norm", e.Message);
        Assert.All(gpt.Parameters().SelectMany(p => p.ToArray()), w => Assert.True(float.IsFinite(w)));
    }

    [Fact]
    public void GradientClipping_ChangesTheRunOnlyWhenTheNormIsAboveTheLimit()
    {
        float[] After(float clip)
        {
            var gpt = SmallGpt(8, dropout: 0f);
            new Trainer(gpt, TrainTokens, ValidationTokens, Options(3) with { GradClip = clip, EvalInterval = 0 }).Run();
            return gpt.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        var unclipped = After(0f);
        Assert.Equal(unclipped, After(1e9f));   // a limit far above every norm: not one bit changes
        // A limit of 1e-6 shrinks every gradient to about 1e-8 an element, where AdamW's ε (1e-8) damps the steps.
        var largest = unclipped.Zip(After(1e-6f), (x, y) => Math.Abs(x - y)).Max();
        Assert.True(largest > 1e-3, $"largest parameter difference {largest:E2}: the gradients were not clipped");
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

        // 12 tokens, 3 windows of 4 (+1 for the last target): starts 0..8 are all possible, the last one included.
        var starts = new HashSet<int>();
        var short12 = new TokenBatches(tokens[..12], 3, 4, BatchOrder.RandomWindows, seed: 2);
        for (var step = 0; step < 200; step++) foreach (var row in short12.Batch(step).Inputs.ToInt32Array().Chunk(4)) starts.Add(row[0]);
        Assert.Equal(Enumerable.Range(0, 8), starts.Order());
    }

    [Theory]
    // 2 rows of 3 over tokens 0..n−1: each row owns a stripe of (n − 1) / 2 tokens (the last token is only a target),
    // read 3 at a time; a pass ends where a stripe has no 3 more inputs, and the next pass starts again at its start.
    [InlineData(12, new[] { 0, 1, 2, 5, 6, 7 }, new int[0])]
    [InlineData(13, new[] { 0, 1, 2, 6, 7, 8 }, new[] { 3, 4, 5, 9, 10, 11 })]
    public void SequentialBatches_ReadEachStripeInTurn_AndWrapAfterAPass(int n, int[] first, int[] second)
    {
        var batches = new TokenBatches(Enumerable.Range(0, n).ToArray(), 2, 3, BatchOrder.Sequential, seed: 1);
        var passes = second.Length == 0 ? 1 : 2;
        Assert.Equal(passes, batches.BatchesPerPass);
        Assert.Equal(first, batches.Batch(0).Inputs.ToInt32Array());
        Assert.Equal(first.Select(t => t + 1), batches.Batch(0).Targets.ToInt32Array());
        if (passes == 2) Assert.Equal(second, batches.Batch(1).Inputs.ToInt32Array());
        Assert.Equal(first, batches.Batch(passes).Inputs.ToInt32Array());   // the next pass
        Assert.Throws<ArgumentException>(() => new Trainer(SmallGpt(1), TrainTokens, ValidationTokens, Options(1) with { BatchOrder = BatchOrder.Sequential }));
    }

    /// <summary>A model whose loss turns NaN at one step, as a diverging run's would.</summary>
    sealed class PoisonedAt(Gpt inner, int step, float poison = float.NaN, bool gradient = false) : INeuralLanguageModel
    {
        int calls;
        public string Name => inner.Name;
        public ITokenizer Tokenizer => inner.Tokenizer;
        public Module Module => inner;
        public int ContextLength => inner.ContextLength;
        public Tensor Logits(Tensor inputs) => inner.Logits(inputs);
        public Tensor Loss(Tensor inputs, Tensor targets)
        {
            if (!Autograd.IsGradEnabled || ++calls != step) return inner.Loss(inputs, targets);
            if (!gradient) return inner.Loss(inputs, targets) * poison;
            var w = inner.Parameters().First();
            return inner.Loss(inputs, targets) + (w - w.Detach()).Sqrt().Sum();   // + 0, with an infinite gradient
        }
        public (double Nats, int Predictions) NegativeLogLikelihood(int[] tokens) => inner.NegativeLogLikelihood(tokens);
        public string Generate(string prompt, int maxNewTokens, Sampling? sampling = null, int seed = 0) => inner.Generate(prompt, maxNewTokens, sampling, seed);
    }
}
