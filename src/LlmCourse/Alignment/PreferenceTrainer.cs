using LlmCourse.Tensors.Formatting;
using System.Diagnostics;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tensors.Optim;
using LlmCourse.Training;

namespace LlmCourse.Alignment;

public enum PreferenceLoss { Dpo, Ipo }

/// <summary>
/// Settings of a DPO or IPO run. <c>Beta</c> is DPO's β, or IPO's τ (TRL's convention: one
/// "beta" for both). <c>LogProbs</c> defaults to sums for DPO and per-token means for IPO.
/// The optimizer, warmup and clipping are the course trainer's (AdamW via <see cref="Trainer.CreateOptimizer"/>);
/// after the warmup the learning rate stays constant, as in the DPO paper.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record PreferenceOptions
{
    public PreferenceLoss Loss { get; init; } = PreferenceLoss.Dpo;
    public double Beta { get; init; } = 0.1;
    /// <summary>Conservative DPO's ε (DPO only).</summary>
    public double LabelSmoothing { get; init; }
    public LogProbReduction? LogProbs { get; init; }
    public int Epochs { get; init; } = 1;
    public int BatchSize { get; init; } = 32;
    public float LearningRate { get; init; } = 1e-4f;
    public int WarmupSteps { get; init; } = 10;
    public float WeightDecay { get; init; }
    public float GradClip { get; init; } = 1f;
    public int Seed { get; init; } = 1;
    public Action<PreferenceStep>? Progress { get; init; }

    public LogProbReduction Reduction => LogProbs ?? (Loss == PreferenceLoss.Ipo ? LogProbReduction.Mean : LogProbReduction.Sum);
}

/// <summary>
/// One optimizer step of DPO/IPO: the loss; the mean log-ratio margin h; the mean policy log-probabilities
/// of the chosen and the rejected responses (both can fall while h rises); their implicit rewards
/// β·log(π/π_ref); and the preference accuracy (implicit reward of chosen &gt; rejected, a tie counting half:
/// the first step, where the policy still equals its reference, scores 50 %).
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record PreferenceStep(int Step, int TotalSteps, int Epoch, double Loss, double Margin,
    double ChosenLogProb, double RejectedLogProb, double ChosenReward, double RejectedReward, double Accuracy, TimeSpan Elapsed);

/// <summary>DPO and IPO on preference pairs: each step puts a batch's chosen and rejected responses
/// through the policy in one padded forward pass (2B sequences); the reference's values come from a
/// cache filled once (<see cref="ReferenceLogProbs"/>).</summary>
public sealed class PreferenceTrainer
{
    readonly Gpt policy;
    readonly IReadOnlyList<EncodedPreference> pairs;
    readonly AdamW optimizer;
    readonly Tensor[] parameters;
    readonly WarmupCosineLr schedule;
    readonly Random random;
    readonly Stopwatch clock = new();

    public PreferenceTrainer(Gpt policy, Gpt reference, IReadOnlyList<EncodedPreference> pairs, PreferenceOptions? options = null)
    {
        Options = options ??= new PreferenceOptions();
        if (pairs.Count == 0) throw new ArgumentException("PreferenceTrainer: no preference pairs.", nameof(pairs));
        if (ReferenceEquals(policy, reference)) throw new ArgumentException("PreferenceTrainer: the reference must be a separate, frozen copy of the policy (Policies.Copy).", nameof(reference));
        if (!(options.Beta > 0)) throw new ArgumentOutOfRangeException(nameof(options), options.Beta, "PreferenceTrainer: β (τ for IPO) must be positive.");
        this.policy = policy;
        this.pairs = pairs;
        clock.Start();
        ReferenceChosen = new ReferenceLogProbs(reference, pairs.Select(p => p.ChosenSequence).ToArray(), options.Reduction);
        ReferenceRejected = new ReferenceLogProbs(reference, pairs.Select(p => p.RejectedSequence).ToArray(), options.Reduction);
        clock.Stop();
        ForwardPasses = ReferenceChosen.ForwardPasses + ReferenceRejected.ForwardPasses;
        parameters = policy.Parameters().ToArray();
        optimizer = Trainer.CreateOptimizer(policy, new TrainingOptions { LearningRate = options.LearningRate, WeightDecay = options.WeightDecay });
        TotalSteps = options.Epochs * ((pairs.Count + options.BatchSize - 1) / options.BatchSize);
        schedule = new WarmupCosineLr(options.LearningRate, options.LearningRate, Math.Min(options.WarmupSteps, TotalSteps), TotalSteps);
        random = new Random(options.Seed);
    }

    public PreferenceOptions Options { get; }

    /// <summary>The reference's log-probabilities of the chosen and the rejected responses, pair by pair, computed once.</summary>
    public ReferenceLogProbs ReferenceChosen { get; }
    public ReferenceLogProbs ReferenceRejected { get; }

    public int TotalSteps { get; }
    public int Step { get; private set; }
    public List<PreferenceStep> History { get; } = [];
    public long ForwardPasses { get; private set; }
    public long BackwardPasses { get; private set; }
    public TimeSpan Elapsed => clock.Elapsed;

    /// <summary>The loss this trainer minimises, on (B) tensors of policy and reference log-probabilities.</summary>
    public Tensor Loss(Tensor policyChosen, Tensor policyRejected, Tensor referenceChosen, Tensor referenceRejected) => Options.Loss switch
    {
        PreferenceLoss.Ipo => Ipo.Loss(policyChosen, policyRejected, referenceChosen, referenceRejected, Options.Beta),
        _ => Dpo.Loss(policyChosen, policyRejected, referenceChosen, referenceRejected, Options.Beta, Options.LabelSmoothing),
    };

    /// <summary>Runs every epoch; returns the steps' records.</summary>
    public List<PreferenceStep> Run()
    {
        for (var epoch = 0; epoch < Options.Epochs; epoch++) RunEpoch();
        return History;
    }

    /// <summary>One pass over the pairs in a fresh random order.</summary>
    public List<PreferenceStep> RunEpoch()
    {
        var epoch = Step * Options.BatchSize / pairs.Count;
        var order = Enumerable.Range(0, pairs.Count).OrderBy(_ => random.Next()).ToArray();
        var records = new List<PreferenceStep>();
        policy.Train();
        foreach (var rows in order.Chunk(Options.BatchSize))
        {
            clock.Start();
            using var scope = TensorScope.Begin();
            optimizer.LearningRate = schedule.At(Math.Min(Step, TotalSteps - 1));
            var batch = ResponseBatch.Create(rows.Select(i => pairs[i].ChosenSequence).Concat(rows.Select(i => pairs[i].RejectedSequence)).ToArray());
            var logProbs = SequenceLogProbs.Compute(policy, batch, Options.Reduction);     // (2B): chosen then rejected
            var chosen = logProbs.Narrow(0, 0, rows.Length);
            var rejected = logProbs.Narrow(0, rows.Length, rows.Length);
            var refChosen = ReferenceChosen.Gather(rows);
            var refRejected = ReferenceRejected.Gather(rows);
            var loss = Loss(chosen, rejected, refChosen, refRejected);
            optimizer.ZeroGrad();
            loss.Backward();
            if (Options.GradClip > 0) GradClip.ClipGradNorm(parameters, Options.GradClip);
            optimizer.Step();
            ForwardPasses++;
            BackwardPasses++;
            Step++;
            var margin = Dpo.Margin(chosen.Detach(), rejected.Detach(), refChosen, refRejected).ToArray();
            var rewardChosen = Dpo.ImplicitReward(chosen, refChosen, Options.Beta).ToArray();
            var rewardRejected = Dpo.ImplicitReward(rejected, refRejected, Options.Beta).ToArray();
            var record = new PreferenceStep(Step, TotalSteps, epoch, loss.Item(), margin.Average(),
                chosen.ToArray().Average(), rejected.ToArray().Average(), rewardChosen.Average(), rewardRejected.Average(),
                BradleyTerry.Accuracy(rewardChosen.Zip(rewardRejected, (c, r) => (double)c - r)), clock.Elapsed);
            clock.Stop();
            History.Add(record);
            records.Add(record);
            Options.Progress?.Invoke(record);
        }
        policy.Eval();
        return records;
    }

    /// <summary>The mean margin h, and the preference accuracy, of the current policy on <paramref name="heldOut"/> pairs (no gradients).</summary>
    public (double Margin, double Accuracy) Evaluate(IReadOnlyList<EncodedPreference> heldOut, Gpt reference)
    {
        var pc = SequenceLogProbs.Evaluate(policy, heldOut.Select(p => p.ChosenSequence).ToArray(), Options.Reduction);
        var pr = SequenceLogProbs.Evaluate(policy, heldOut.Select(p => p.RejectedSequence).ToArray(), Options.Reduction);
        var rc = SequenceLogProbs.Evaluate(reference, heldOut.Select(p => p.ChosenSequence).ToArray(), Options.Reduction);
        var rr = SequenceLogProbs.Evaluate(reference, heldOut.Select(p => p.RejectedSequence).ToArray(), Options.Reduction);
        var margins = Enumerable.Range(0, heldOut.Count).Select(i => (pc[i] - rc[i]) - (pr[i] - rr[i])).ToArray();
        return (margins.Average(), BradleyTerry.Accuracy(margins));
    }
}
