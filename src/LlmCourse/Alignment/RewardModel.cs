using LlmCourse.Tensors.Formatting;
using System.Diagnostics;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;
using LlmCourse.Tensors.Optim;
using LlmCourse.Training;

namespace LlmCourse.Alignment;

/// <summary>
/// A reward model: a GPT backbone (a copy of the model being aligned, so it reads text as well as
/// the policy writes it) with a scalar head on the last token's hidden state, r(x, y) = wᵀ h_last + b.
/// The last token is the only one that has seen the whole prompt and response (the model is causal).
/// Trained on preference pairs with the Bradley–Terry loss −log σ(r(y_w) − r(y_l)).
/// </summary>
public sealed class RewardModel : Module
{
    readonly Linear head;

    /// <param name="backbone">becomes part of this model and is trained with it; pass a copy (<see cref="Policies.Copy"/>)</param>
    /// <param name="pooling">what the head reads: the last token's state (the usual design), or the mean of the response's states</param>
    public RewardModel(Gpt backbone, Generator? generator = null, RewardPooling pooling = RewardPooling.LastToken)
    {
        Pooling = pooling;
        Backbone = Register("backbone", backbone);
        head = Register("head", new Linear(backbone.Config.Embedding, 1, bias: true, generator ?? new Generator(7)));
        Init.Normal(head.Weight, 0, 1f / MathF.Sqrt(backbone.Config.Embedding + 1), generator ?? new Generator(7));
        Init.Zeros(head.Bias!);
    }

    public Gpt Backbone { get; }
    public RewardPooling Pooling { get; }

    /// <summary>One score per sequence: (B).</summary>
    public Tensor Scores(ResponseBatch batch)
    {
        var hidden = Backbone.Hidden(batch.Tokens);                       // (B, L, C)
        if (Pooling == RewardPooling.ResponseMean)
        {
            // Mask[t] marks token t+1 as a response token, so shifting the states by one lines them up:
            // the mean runs over the states of the response tokens themselves.
            var states = hidden.Narrow(1, 1, batch.Length - 1);             // (B, L−1, C): states of tokens 1 … L−1
            var mask = batch.Mask.Unsqueeze(2);                             // (B, L−1, 1): 1 where that token is a response token
            var pooled = (states * mask).Sum(1) / mask.Sum(1);              // (B, C)
            return head.Forward(pooled).Squeeze(1);
        }
        var last = Policies.AtPositions(hidden, batch.LastIndex);           // (B, C)
        return head.Forward(last).Squeeze(1);                             // (B)
    }

    /// <summary>Scores without gradients, in eval mode, in batches.</summary>
    public double[] Score(IReadOnlyList<PromptResponse> items, int batchSize = 64)
    {
        using var inference = Inference();
        var scores = new double[items.Count];
        for (var start = 0; start < items.Count; start += batchSize)
        {
            using var scope = TensorScope.Begin();
            var chunk = items.Skip(start).Take(batchSize).ToArray();
            var values = Scores(ResponseBatch.Create(chunk)).ToArray();
            for (var i = 0; i < values.Length; i++) scores[start + i] = values[i];
        }
        return scores;
    }

    /// <summary>Scores of text responses to text prompts (what PPO calls for its rewards).</summary>
    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        var tokenizer = Backbone.Tokenizer;
        return Score(prompts.Select((p, i) => new PromptResponse(tokenizer.Encode(p), tokenizer.Encode(responses[i]))).ToArray());
    }

    /// <summary>The fraction of pairs where the chosen response scores higher, and the mean Bradley–Terry loss.</summary>
    public (double Accuracy, double Loss) Evaluate(IReadOnlyList<EncodedPreference> pairs)
    {
        var chosen = Score(pairs.Select(p => p.ChosenSequence).ToArray());
        var rejected = Score(pairs.Select(p => p.RejectedSequence).ToArray());
        var differences = Enumerable.Range(0, pairs.Count).Select(i => chosen[i] - rejected[i]).ToArray();
        // −log σ(d), stable both ways
        var loss = differences.Average(d => d > 0 ? Math.Log(1 + Math.Exp(-d)) : -d + Math.Log(1 + Math.Exp(d)));
        return (BradleyTerry.Accuracy(differences), loss);
    }
}

/// <summary>Which hidden states a reward model's head reads.</summary>
public enum RewardPooling
{
    /// <summary>The last token's state: the only one that has seen the whole prompt and response (InstructGPT, TRL).</summary>
    LastToken,
    /// <summary>The mean of the response tokens' states: every word of the response reaches the head directly.</summary>
    ResponseMean,
}

[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record RewardTrainingOptions
{
    public int Epochs { get; init; } = 2;
    public int BatchSize { get; init; } = 32;
    public float LearningRate { get; init; } = 3e-4f;
    public int WarmupSteps { get; init; } = 10;
    public float WeightDecay { get; init; } = 0.0f;
    public float GradClip { get; init; } = 1f;
    public int Seed { get; init; } = 1;
    public Action<RewardTrainingStep>? Progress { get; init; }
}

/// <summary>One optimizer step of reward-model training: the batch's Bradley–Terry loss and how often it ranked the pair right.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record RewardTrainingStep(int Step, int TotalSteps, int Epoch, double Loss, double Accuracy, TimeSpan Elapsed);

public static class RewardModelTrainer
{
    /// <summary>Minibatch AdamW on the Bradley–Terry loss: each step scores the chosen and the
    /// rejected responses of a batch in one forward pass (2B sequences).</summary>
    public static List<RewardTrainingStep> Train(RewardModel model, IReadOnlyList<EncodedPreference> pairs, RewardTrainingOptions? options = null)
    {
        options ??= new RewardTrainingOptions();
        if (pairs.Count == 0) throw new ArgumentException("RewardModelTrainer: no preference pairs to train on.", nameof(pairs));
        var optimizer = Trainer.CreateOptimizer(model, new TrainingOptions { LearningRate = options.LearningRate, WeightDecay = options.WeightDecay });
        var batchesPerEpoch = (pairs.Count + options.BatchSize - 1) / options.BatchSize;
        var total = options.Epochs * batchesPerEpoch;
        var schedule = new WarmupCosineLr(options.LearningRate, options.LearningRate / 10, Math.Min(options.WarmupSteps, total), total);
        var parameters = model.Parameters().ToArray();
        var random = new Random(options.Seed);
        var history = new List<RewardTrainingStep>();
        var clock = Stopwatch.StartNew();
        model.Train();
        var step = 0;
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = Enumerable.Range(0, pairs.Count).OrderBy(_ => random.Next()).ToArray();
            foreach (var rows in order.Chunk(options.BatchSize))
            {
                using var scope = TensorScope.Begin();
                optimizer.LearningRate = schedule.At(step);
                var batch = ResponseBatch.Create(rows.Select(i => pairs[i].ChosenSequence).Concat(rows.Select(i => pairs[i].RejectedSequence)).ToArray());
                var scores = model.Scores(batch);                                    // (2B): chosen then rejected
                var chosen = scores.Narrow(0, 0, rows.Length);
                var rejected = scores.Narrow(0, rows.Length, rows.Length);
                var loss = BradleyTerry.Loss(chosen, rejected);
                optimizer.ZeroGrad();
                loss.Backward();
                if (options.GradClip > 0) GradClip.ClipGradNorm(parameters, options.GradClip);
                optimizer.Step();
                var margins = (chosen - rejected).ToArray();
                step++;
                var record = new RewardTrainingStep(step, total, epoch, loss.Item(), BradleyTerry.Accuracy(margins.Select(m => (double)m)), clock.Elapsed);
                history.Add(record);
                options.Progress?.Invoke(record);
            }
        }
        model.Eval();
        return history;
    }
}
