using LlmCourse.Tensors.Formatting;
using LlmCourse.Models;

namespace LlmCourse.Alignment;

/// <summary>What a policy does on a fixed set of prompts: the mean true reward of its samples and how far it has moved
/// from the reference, KL(π ‖ π_ref) per response, estimated by k1 on the same samples (nats).</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record PolicyMeasurement(double TrueReward, double Kl, double TrueRewardStdError, string[] Responses)
{
    /// <summary>Samples one response per prompt from <paramref name="policy"/> (temperature 1, fixed seed) and measures it.</summary>
    public static PolicyMeasurement Of(Gpt policy, Gpt reference, IReadOnlyList<string> prompts, TrueReward trueReward,
        int responseLength, int seed = 1000)
    {
        var tokenizer = policy.Tokenizer;
        var promptTokens = prompts.Select(tokenizer.Encode).ToArray();
        var responses = Rollouts.Sample(policy, promptTokens, responseLength, seed: seed);
        var items = promptTokens.Select((p, i) => new PromptResponse(p, responses[i])).ToArray();
        var logPolicy = SequenceLogProbs.Evaluate(policy, items);
        var logReference = SequenceLogProbs.Evaluate(reference, items);
        var texts = responses.Select(r => tokenizer.Decode(r)).ToArray();
        var rewards = trueReward.Score(prompts, texts);
        var mean = rewards.Average();
        var stdError = Math.Sqrt(rewards.Sum(r => (r - mean) * (r - mean)) / Math.Max(1, rewards.Length - 1) / rewards.Length);
        return new PolicyMeasurement(mean, logPolicy.Select((l, i) => KlEstimators.K1(l, logReference[i])).Average(), stdError, texts);
    }
}
