using LlmCourse.Tensors.Formatting;
using System.Diagnostics;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;
using LlmCourse.Tensors.Optim;
using LlmCourse.Training;

namespace LlmCourse.Alignment;

/// <summary>
/// PPO's settings for language models. The defaults are TRL's PPOConfig (kl_coef 0.05, cliprange 0.2,
/// cliprange_value 0.2, vf_coef 0.1, 4 PPO epochs, γ = 1, λ = 0.95, whitened advantages), except the
/// learning rate and batch sizes, which fit a small character GPT on a CPU.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record PpoOptions
{
    public int Iterations { get; init; } = 100;
    /// <summary>Prompts per rollout batch.</summary>
    public int BatchSize { get; init; } = 32;
    public int MiniBatchSize { get; init; } = 16;
    /// <summary>Passes over each rollout batch (PPO reuses its samples, kept honest by the clip).</summary>
    public int Epochs { get; init; } = 4;
    public int ResponseLength { get; init; } = 32;
    public float Temperature { get; init; } = 1f;
    public float LearningRate { get; init; } = 1e-4f;
    public float GradClip { get; init; } = 1f;
    /// <summary>β of the per-token penalty −β·(log π − log π_ref) added to the rewards.</summary>
    public double KlCoef { get; init; } = 0.05;
    /// <summary>With a target, β adapts to keep the KL near it (<see cref="AdaptiveKlController"/>).</summary>
    public double? TargetKl { get; init; }
    public double KlHorizon { get; init; } = 10_000;
    public double ClipRange { get; init; } = 0.2;
    public double ClipRangeValue { get; init; } = 0.2;
    public double ValueCoef { get; init; } = 0.1;
    public double Gamma { get; init; } = 1;
    public double Lambda { get; init; } = 0.95;
    public bool WhitenAdvantages { get; init; } = true;
    public int Seed { get; init; } = 1;
    public Action<PpoStats>? Progress { get; init; }
}

/// <summary>What one PPO iteration saw. <c>Kl</c> is the mean over the batch of Σ_t (log π − log π_ref)
/// of the sampled tokens, a k1 estimate of KL(π ‖ π_ref) per response.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record PpoStats(int Iteration, double LearnedReward, double? TrueReward, double Kl, double Entropy,
    double ClipFraction, double ValueClipFraction, double ApproxKl, double PolicyLoss, double ValueLoss, double KlCoef,
    TimeSpan Elapsed, string Prompt, string Response);

/// <summary>The policy with a value head beside its language-model head, sharing the backbone (TRL's
/// AutoModelForCausalLMWithValueHead): one forward pass gives the next-token logits and V(state) at every position.</summary>
public sealed class PolicyWithValueHead : Module
{
    readonly Linear valueHead;

    public PolicyWithValueHead(Gpt policy, Generator? generator = null)
    {
        Policy = Register("policy", policy);
        valueHead = Register("v_head", new Linear(policy.Config.Embedding, 1, bias: true, generator ?? new Generator(11)));
        Init.Zeros(valueHead.Weight);
        Init.Zeros(valueHead.Bias!);
    }

    public Gpt Policy { get; }

    /// <summary>tokens (B, T) → logits (B, T, V) and values (B, T). The value at position t estimates the
    /// return from the token predicted there onward.</summary>
    public (Tensor Logits, Tensor Values) Forward(Tensor tokens)
    {
        var hidden = Policy.Hidden(tokens);                       // (B, T, C)
        return (Policy.OutputLayer(hidden), valueHead.Forward(hidden).Squeeze(2));
    }
}

/// <summary>
/// RLHF's third step: PPO on a language model (Ziegler et al. 2019; Ouyang et al. 2022; TRL's PPOTrainer).
/// Each iteration:
/// <list type="number">
/// <item><b>Rollout</b>: sample a response to each of a batch of prompts from the current policy (KV cache).</item>
/// <item><b>Score</b>: the reward function (a learned reward model) scores each whole response; the frozen
/// reference gives log π_ref of every sampled token. Per-token rewards: r_t = −β·(log π_old − log π_ref)_t,
/// with the score added at the last token. (k1, the per-token KL estimate whose sum over the response is
/// an unbiased estimate of the sequence KL.)</item>
/// <item><b>Advantages</b>: GAE over the response tokens with the value head's estimates, then whitened.</item>
/// <item><b>Update</b>: several epochs of minibatches on the clipped surrogate plus vf_coef × the clipped value loss.</item>
/// </list>
/// </summary>
public sealed class PpoTrainer
{
    readonly PolicyWithValueHead model;
    readonly Gpt reference;
    readonly Func<IReadOnlyList<string>, IReadOnlyList<string>, double[]> reward;
    readonly Func<IReadOnlyList<string>, IReadOnlyList<string>, double[]>? trueReward;
    readonly IReadOnlyList<string> prompts;
    readonly AdamW optimizer;
    readonly Tensor[] parameters;
    readonly Random random;
    readonly Stopwatch clock = new();

    /// <param name="policy">trained in place</param>
    /// <param name="reference">frozen: only read</param>
    /// <param name="reward">the reward PPO optimises (prompts, responses → one score each)</param>
    /// <param name="trueReward">measured and logged, never optimised (null when there is none)</param>
    public PpoTrainer(Gpt policy, Gpt reference, Func<IReadOnlyList<string>, IReadOnlyList<string>, double[]> reward,
        IReadOnlyList<string> prompts, PpoOptions? options = null,
        Func<IReadOnlyList<string>, IReadOnlyList<string>, double[]>? trueReward = null)
    {
        Options = options ??= new PpoOptions();
        if (prompts.Count == 0) throw new ArgumentException("PpoTrainer: no prompts.", nameof(prompts));
        if (ReferenceEquals(policy, reference)) throw new ArgumentException("PpoTrainer: the reference must be a separate, frozen copy of the policy (Policies.Copy).", nameof(reference));
        if (options.MiniBatchSize < 1 || options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "PpoTrainer: batch sizes must be positive.");
        model = new PolicyWithValueHead(policy);
        this.reference = reference;
        this.reward = reward;
        this.trueReward = trueReward;
        this.prompts = prompts;
        parameters = model.Parameters().ToArray();
        optimizer = Trainer.CreateOptimizer(model, new TrainingOptions { LearningRate = options.LearningRate, WeightDecay = 0f, Beta2 = 0.999f });
        KlController = options.TargetKl is { } target
            ? new AdaptiveKlController(options.KlCoef, target, options.KlHorizon)
            : new FixedKlController(options.KlCoef);
        random = new Random(options.Seed);
    }

    public PpoOptions Options { get; }
    public IKlController KlController { get; }
    public Gpt Policy => model.Policy;
    public List<PpoStats> History { get; } = [];
    public int Iteration { get; private set; }
    /// <summary>Batched forward passes (generation steps count one each) and backward passes so far: the compute PPO took.</summary>
    public long ForwardPasses { get; private set; }
    public long BackwardPasses { get; private set; }

    public List<PpoStats> Run()
    {
        while (Iteration < Options.Iterations) Step();
        return History;
    }

    public PpoStats Step()
    {
        clock.Start();
        var tokenizer = Policy.Tokenizer;
        var promptTexts = Enumerable.Range(0, Options.BatchSize).Select(_ => prompts[random.Next(prompts.Count)]).ToArray();
        var promptTokens = promptTexts.Select(tokenizer.Encode).ToArray();

        // 1. Rollout.
        var responses = Rollouts.Sample(Policy, promptTokens, Options.ResponseLength, new Sampling(Options.Temperature), seed: random.Next());
        ForwardPasses += Options.ResponseLength * promptTokens.Select(p => p.Length).Distinct().Count();
        var responseTexts = responses.Select(r => tokenizer.Decode(r)).ToArray();
        var items = promptTokens.Select((p, i) => new PromptResponse(p, responses[i])).ToArray();

        // 2. Score: old log-probs and values, reference log-probs, the reward.
        var B = items.Length;
        var length = items.Max(i => i.Length);
        var all = ResponseBatch.Create(items, length);
        var T = length - 1;
        float[] oldLogProbs, oldValues, refLogProbs, mask;
        using (var scope = TensorScope.Begin())
        using (Autograd.NoGrad())
        {
            model.Eval();
            var (logits, values) = model.Forward(all.Inputs);
            oldLogProbs = SequenceLogProbs.PerToken(logits, all).ToArray();
            oldValues = values.ToArray();
            using (reference.Inference()) refLogProbs = SequenceLogProbs.PerToken(reference, all).ToArray();
            mask = all.Mask.ToArray();
            ForwardPasses += 2;
        }
        var scores = reward(promptTexts, responseTexts);
        var trueScores = trueReward?.Invoke(promptTexts, responseTexts);
        var beta = KlController.Coefficient;

        // 3. Per-token rewards and GAE over each response's positions.
        var advantages = new float[B * T];
        var returns = new float[B * T];
        var klPerSequence = new double[B];
        var allAdvantages = new List<double>();
        for (var b = 0; b < B; b++)
        {
            var positions = Enumerable.Range(0, T).Where(t => mask[b * T + t] > 0).ToArray();
            var rewards = new double[positions.Length];
            var values = new double[positions.Length];
            for (var k = 0; k < positions.Length; k++)
            {
                var at = b * T + positions[k];
                var kl = KlEstimators.K1(oldLogProbs[at], refLogProbs[at]);
                klPerSequence[b] += kl;
                rewards[k] = -beta * kl;
                values[k] = oldValues[at];
            }
            rewards[^1] += scores[b];
            var (adv, ret) = Gae.Compute(rewards, values, Options.Gamma, Options.Lambda);
            for (var k = 0; k < positions.Length; k++)
            {
                advantages[b * T + positions[k]] = (float)adv[k];
                returns[b * T + positions[k]] = (float)ret[k];
                allAdvantages.Add(adv[k]);
            }
        }
        if (Options.WhitenAdvantages)
        {
            var whitened = Gae.Whiten(allAdvantages);
            var n = 0;
            for (var i = 0; i < advantages.Length; i++) if (mask[i] > 0) advantages[i] = (float)whitened[n++];
        }

        // 4. Several epochs of minibatch updates on the same samples.
        model.Train();
        double policyLoss = 0, valueLoss = 0, clipFraction = 0, valueClip = 0, approxKl = 0, entropy = 0;
        var updates = 0;
        for (var epoch = 0; epoch < Options.Epochs; epoch++)
        {
            var order = Enumerable.Range(0, B).OrderBy(_ => random.Next()).ToArray();
            foreach (var rows in order.Chunk(Options.MiniBatchSize))
            {
                using var scope = TensorScope.Begin();
                var batch = ResponseBatch.Create(rows.Select(r => items[r]).ToArray(), length);
                Tensor Rows(float[] source) => Tensor.FromArray(rows.SelectMany(r => source.Skip(r * T).Take(T)).ToArray(), rows.Length, T);
                var (logits, values) = model.Forward(batch.Inputs);
                var logProbs = SequenceLogProbs.PerToken(logits, batch);
                var (pg, clipped, kl) = PpoLosses.ClippedSurrogate(logProbs, Rows(oldLogProbs), Rows(advantages), batch.Mask, Options.ClipRange);
                var (vf, vclipped) = PpoLosses.ClippedValueLoss(values, Rows(oldValues), Rows(returns), batch.Mask, Options.ClipRangeValue);
                var loss = pg + vf * (float)Options.ValueCoef;
                optimizer.ZeroGrad();
                loss.Backward();
                if (Options.GradClip > 0) GradClip.ClipGradNorm(parameters, Options.GradClip);
                optimizer.Step();
                ForwardPasses++;
                BackwardPasses++;
                using (Autograd.NoGrad())
                    entropy += (SequenceLogProbs.Entropy(logits.Detach()) * batch.Mask).Sum().Item() / batch.Mask.Sum().Item();
                policyLoss += pg.Item();
                valueLoss += vf.Item();
                clipFraction += clipped;
                valueClip += vclipped;
                approxKl += kl;
                updates++;
            }
        }
        model.Eval();

        var meanKl = klPerSequence.Average();
        KlController.Update(meanKl, B);
        Iteration++;
        clock.Stop();
        var stats = new PpoStats(Iteration, scores.Average(), trueScores?.Average(), meanKl, entropy / updates,
            clipFraction / updates, valueClip / updates, approxKl / updates, policyLoss / updates, valueLoss / updates,
            beta, clock.Elapsed, promptTexts[0], responseTexts[0]);
        History.Add(stats);
        Options.Progress?.Invoke(stats);
        return stats;
    }
}
