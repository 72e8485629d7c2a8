using LlmCourse.Tensors.Formatting;
using System.Diagnostics;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tensors.Optim;
using LlmCourse.Training;

namespace LlmCourse.Alignment;

[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record GrpoOptions
{
    public int Iterations { get; init; } = 50;
    public int PromptsPerStep { get; init; } = 8;
    /// <summary>G, the samples per prompt whose rewards are compared with each other.</summary>
    public int GroupSize { get; init; } = 8;
    public int MaxNewTokens { get; init; } = 16;
    /// <summary>Generation stops at this token (kept in the response), e.g. the chat template's end of turn.</summary>
    public int? StopToken { get; init; }
    public float Temperature { get; init; } = 1f;
    public float LearningRate { get; init; } = 1e-4f;
    public float GradClip { get; init; } = 1f;
    /// <summary>β of the k3 penalty to the reference (DeepSeekMath: 0.04); 0 turns it off and skips the reference's forward pass.</summary>
    public double KlCoef { get; init; } = 0.04;
    public double ClipRange { get; init; } = 0.2;
    /// <summary>Updates per sampled batch (DeepSeekMath's μ; 1 is plain on-policy policy gradient).</summary>
    public int Epochs { get; init; } = 1;
    public int Seed { get; init; } = 1;
    public Action<GrpoStats>? Progress { get; init; }
}

/// <summary>One GRPO iteration: the mean reward of its samples, the fraction of groups whose samples
/// did not all score the same (only those carry a learning signal), the KL to the reference (k1 per response).</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record GrpoStats(int Iteration, double MeanReward, double InformativeGroups, double Kl, double ClipFraction,
    double MeanLength, TimeSpan Elapsed);

/// <summary>
/// Group Relative Policy Optimisation (Shao et al. 2024, DeepSeekMath; CS336 assignment 5): PPO
/// without a value head. For each prompt, sample a group of G responses and score each with a
/// reward function (here a verifier: 1 if the answer is exactly right); each response's advantage is
/// its reward standardised within its group, A_i = (r_i − mean(r)) / (std(r) + ε), the same for all
/// of its tokens. The baseline is the group's own mean: no critic to train. Loss: the clipped
/// surrogate, averaged over all response tokens of the batch (the token-level average of DAPO and
/// Dr. GRPO; DeepSeekMath averages per response first), plus β·k3 to the reference.
/// </summary>
public sealed class GrpoTrainer
{
    readonly Gpt policy;
    readonly Gpt? reference;
    readonly IReadOnlyList<int[]> prompts;
    readonly Func<int, int[], double> reward;
    readonly AdamW optimizer;
    readonly Tensor[] parameters;
    readonly Random random;
    readonly Stopwatch clock = new();

    /// <param name="prompts">prompt token ids (e.g. <see cref="ChatTemplate.RenderPrompt"/>, special tokens included)</param>
    /// <param name="reward">(index of the prompt, response token ids, the stop token included when sampled) → reward</param>
    public GrpoTrainer(Gpt policy, Gpt? reference, IReadOnlyList<int[]> prompts, Func<int, int[], double> reward, GrpoOptions? options = null)
    {
        Options = options ??= new GrpoOptions();
        if (prompts.Count == 0) throw new ArgumentException("GrpoTrainer: no prompts.", nameof(prompts));
        if (options.GroupSize < 2) throw new ArgumentOutOfRangeException(nameof(options), options.GroupSize, "GrpoTrainer: a group needs at least 2 samples to compare.");
        if (options.KlCoef > 0 && reference is null) throw new ArgumentException("GrpoTrainer: a KL penalty needs a reference model; pass one or set KlCoef = 0.", nameof(reference));
        this.policy = policy;
        this.reference = reference;
        this.prompts = prompts;
        this.reward = reward;
        parameters = policy.Parameters().ToArray();
        optimizer = Trainer.CreateOptimizer(policy, new TrainingOptions { LearningRate = options.LearningRate, WeightDecay = 0f, Beta2 = 0.999f });
        random = new Random(options.Seed);
    }

    /// <summary>Text prompts, encoded with the policy's tokenizer; the reward sees the decoded response.</summary>
    public GrpoTrainer(Gpt policy, Gpt? reference, IReadOnlyList<string> prompts, Func<int, string, double> reward, GrpoOptions? options = null)
        : this(policy, reference, prompts.Select(p => policy.Tokenizer.Encode(p)).ToArray(),
               (i, ids) => reward(i, policy.Tokenizer.Decode(ids)), options)
    {
    }

    public GrpoOptions Options { get; }
    public List<GrpoStats> History { get; } = [];
    public int Iteration { get; private set; }

    public List<GrpoStats> Run()
    {
        while (Iteration < Options.Iterations) Step();
        return History;
    }

    /// <summary>Group-normalised advantages: each reward minus its group's mean, over the group's standard deviation (+ε).</summary>
    public static double[] GroupAdvantages(IReadOnlyList<double> rewards, int groupSize, double epsilon = 1e-4)
    {
        if (rewards.Count % groupSize != 0) throw new ArgumentException($"GrpoTrainer.GroupAdvantages: {rewards.Count} rewards do not split into groups of {groupSize}.");
        var advantages = new double[rewards.Count];
        for (var g = 0; g < rewards.Count; g += groupSize)
        {
            var group = rewards.Skip(g).Take(groupSize).ToArray();
            var mean = group.Average();
            var std = Math.Sqrt(group.Sum(r => (r - mean) * (r - mean)) / Math.Max(1, groupSize - 1));
            for (var i = 0; i < groupSize; i++) advantages[g + i] = (group[i] - mean) / (std + epsilon);
        }
        return advantages;
    }

    public GrpoStats Step()
    {
        clock.Start();
        var G = Options.GroupSize;
        var chosen = Enumerable.Range(0, Options.PromptsPerStep).Select(_ => random.Next(prompts.Count)).ToArray();
        var promptIndex = chosen.SelectMany(i => Enumerable.Repeat(i, G)).ToArray();
        var promptTokens = promptIndex.Select(i => prompts[i]).ToArray();
        var responses = Rollouts.Sample(policy, promptTokens, Options.MaxNewTokens, new Sampling(Options.Temperature),
            seed: random.Next(), stopToken: Options.StopToken);
        var rewards = responses.Select((r, i) => reward(promptIndex[i], r)).ToArray();
        var advantages = GroupAdvantages(rewards, G);
        var informative = Enumerable.Range(0, chosen.Length).Count(g => rewards.Skip(g * G).Take(G).Distinct().Count() > 1) / (double)chosen.Length;

        var items = promptTokens.Select((p, i) => new PromptResponse(p, responses[i].Length > 0 ? responses[i] : [0])).ToArray();
        var batch = ResponseBatch.Create(items);
        var (B, T) = (items.Length, batch.Length - 1);
        var advantageGrid = new float[B * T];
        for (var b = 0; b < B; b++) for (var t = 0; t < T; t++) advantageGrid[b * T + t] = (float)advantages[b];
        var advantageTensor = Tensor.FromArray(advantageGrid, B, T);
        Tensor oldLogProbs, refLogProbs;
        using (Autograd.NoGrad())
        {
            using (policy.Inference()) oldLogProbs = SequenceLogProbs.PerToken(policy, batch).Detach();
            if (reference is not null && Options.KlCoef > 0)
                using (reference.Inference()) refLogProbs = SequenceLogProbs.PerToken(reference, batch).Detach();
            else refLogProbs = oldLogProbs;
        }

        double clipFraction = 0;
        policy.Train();
        for (var epoch = 0; epoch < Options.Epochs; epoch++)
        {
            using var scope = TensorScope.Begin();
            var logProbs = SequenceLogProbs.PerToken(policy, batch);
            var (loss, clipped, _) = PpoLosses.ClippedSurrogate(logProbs, oldLogProbs, advantageTensor, batch.Mask, Options.ClipRange);
            if (Options.KlCoef > 0)
                loss = loss + (KlEstimators.K3(logProbs, refLogProbs) * batch.Mask).Sum() / batch.Mask.Sum() * (float)Options.KlCoef;
            optimizer.ZeroGrad();
            loss.Backward();
            if (Options.GradClip > 0) GradClip.ClipGradNorm(parameters, Options.GradClip);
            optimizer.Step();
            clipFraction += clipped;
        }
        policy.Eval();
        var kl = ((oldLogProbs - refLogProbs) * batch.Mask).Sum().Item() / B;
        Iteration++;
        clock.Stop();
        var stats = new GrpoStats(Iteration, rewards.Average(), informative, kl, clipFraction / Options.Epochs,
            responses.Average(r => r.Length), clock.Elapsed);
        History.Add(stats);
        Options.Progress?.Invoke(stats);
        return stats;
    }
}
