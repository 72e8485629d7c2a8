using LlmCourse.Alignment;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;
using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Tests.Alignment;

/// <summary>The alignment pieces that run a GPT, on a tiny one.</summary>
public sealed class AlignmentModelTests
{
    static readonly CharTokenizer Chars = new("abcdefgh ");

    static Gpt Tiny(ulong seed = 3) => new(new GptConfig(Chars.VocabSize, BlockSize: 24, Layers: 1, Heads: 2, Embedding: 16), Chars, new Generator(seed));

    [Fact]
    public void RewardModel_LastTokenPooling_IsTheHeadOnTheLastRealTokensState()
    {
        // By hand: the backbone's state at the sequence's own last position (not the padding after it in the batch), then wᵀh + b.
        var model = new RewardModel(Tiny());
        var items = new[] { new PromptResponse(Chars.Encode("ab"), Chars.Encode("cde")), new PromptResponse(Chars.Encode("h"), Chars.Encode("gfedcba")) };
        var scores = model.Score(items);
        var head = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        var w = head["head.weight"].ToArray();
        var bias = head["head.bias"].Item();
        using var inference = model.Inference();
        for (var i = 0; i < items.Length; i++)
        {
            var seq = items[i].Prompt.Concat(items[i].Response).ToArray();
            var hidden = model.Backbone.Hidden(Tensor.FromArray(seq, 1, seq.Length)).ToArray();   // (1, L, C) row-major
            var C = w.Length;
            var last = (seq.Length - 1) * C;
            Assert.Equal(bias + Enumerable.Range(0, C).Sum(c => (double)w[c] * hidden[last + c]), scores[i], 4);
        }
    }

    [Fact]
    public void Ppo_FirstUpdate_ScoresTheLastTokenAndDiscountsItBackByLambda()
    {
        // The value head starts at zero, so V ≡ 0 and the GAE advantage of response position t (of n) is the sum of the
        // later rewards discounted by λ: with the score 1 at the last token and no KL penalty, A_t = R_t = λ^(n−1−t).
        // At the first update ρ = 1, so (whitening off) the policy loss is −mean A and the value loss ½ mean R².
        var policy = Tiny();
        const double lambda = 0.9;
        var trainer = new PpoTrainer(policy, Policies.Copy(policy), (prompts, responses) => responses.Select(r => 1.0).ToArray(), ["ab"], new PpoOptions
        {
            Iterations = 1, BatchSize = 1, MiniBatchSize = 1, Epochs = 1, ResponseLength = 6, KlCoef = 0, Lambda = lambda, WhitenAdvantages = false,
        });
        var stats = trainer.Step();
        var discounts = Enumerable.Range(0, 6).Select(t => Math.Pow(lambda, 5 - t)).ToArray();
        Assert.Equal(6, stats.Response.Length);
        Assert.Equal(-discounts.Average(), stats.PolicyLoss, 4);
        Assert.Equal(0.5 * discounts.Average(a => a * a), stats.ValueLoss, 4);
    }

    [Fact]
    public void Ppo_KlPenalty_IsMinusBetaTimesTheLogRatioOfEachSampledToken()
    {
        // Against a reference with other weights, score 0 and λ = 0: A_t = r_t = −β (log π − log π_ref)(y_t), V ≡ 0.
        // The first update's policy loss −mean A = β · mean k1, with log π and log π_ref computed here from cross-entropy.
        var policy = Tiny();
        var before = Policies.Copy(policy);
        var reference = Tiny(seed: 4);
        const double beta = 5;
        var trainer = new PpoTrainer(policy, reference, (prompts, responses) => new double[responses.Count], ["ab"], new PpoOptions
        {
            Iterations = 1, BatchSize = 1, MiniBatchSize = 1, Epochs = 1, ResponseLength = 6, KlCoef = beta, Lambda = 0, WhitenAdvantages = false,
        });
        var stats = trainer.Step();
        var (prompt, response) = (Chars.Encode(stats.Prompt), Chars.Encode(stats.Response));
        var seq = prompt.Concat(response).ToArray();
        double[] LogProbs(Gpt model)
        {
            var logits = model.Forward(Tensor.FromArray(seq[..^1], 1, seq.Length - 1));
            var nll = F.CrossEntropy(logits.View(seq.Length - 1, -1), Tensor.FromArray(seq[1..], seq.Length - 1), reduction: Reduction.None).ToArray();
            return nll.Skip(prompt.Length - 1).Select(x => -(double)x).ToArray();
        }
        var k1 = LogProbs(before).Zip(LogProbs(reference), (p, q) => p - q).ToArray();
        Assert.True(Math.Abs(k1.Average()) > 1e-3, $"mean k1 {k1.Average()} too small to show a sign");
        Assert.Equal(k1.Sum(), stats.Kl, 4);
        Assert.Equal(beta * k1.Average(), stats.PolicyLoss, 4);
        Assert.Equal(0.5 * k1.Average(k => beta * beta * k * k), stats.ValueLoss, 4);
    }

    [Fact]
    public void Ppo_ValueHead_LearnsAConstantReward()
    {
        // Every response scores 1 and there is no KL penalty, so the returns hardly change from one batch to the next:
        // the value loss (½ mean (V − R)², V starting at 0) must fall as the value head, trained by descent on it, fits them.
        var policy = Tiny();
        var trainer = new PpoTrainer(policy, Policies.Copy(policy), (prompts, responses) => responses.Select(r => 1.0).ToArray(), ["ab"], new PpoOptions
        {
            Iterations = 12, BatchSize = 4, MiniBatchSize = 4, Epochs = 4, ResponseLength = 4, KlCoef = 0, LearningRate = 1e-2f,
        });
        var history = trainer.Run();
        Assert.True(history[^1].ValueLoss < history[0].ValueLoss / 2, $"value loss {history[0].ValueLoss:F4} → {history[^1].ValueLoss:F4}");
    }

    [Fact]
    public void RewardModel_ResponseMean_IsTheHeadOnTheMeanOfTheResponseTokensStates()
    {
        // Prompt "ab", response "cde": the score is head(mean of the final states at positions 2, 3, 4), by hand in double.
        var model = new RewardModel(Tiny(), pooling: RewardPooling.ResponseMean);
        int[] prompt = Chars.Encode("ab"), response = Chars.Encode("cde");
        float[] hidden;
        using (model.Inference()) hidden = model.Backbone.Hidden(Tensor.FromArray([.. prompt, .. response], 1, 5)).ToArray();   // (1, 5, 16)
        var parameters = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.ToArray());
        var (w, b) = (parameters["head.weight"], parameters["head.bias"][0]);
        var expected = (double)b;
        for (var c = 0; c < 16; c++) expected += w[c] * Enumerable.Range(2, 3).Average(t => (double)hidden[t * 16 + c]);
        Assert.Equal(expected, model.Score([new PromptResponse(prompt, response)])[0], 4);
    }

    [Fact]
    public void RewardModel_EvaluateLoss_IsTheMeanBradleyTerryLossOfItsScoreDifferences()
    {
        // Each pair and its swap: differences of both signs, so both branches of the stable −log σ(d) are checked.
        var model = new RewardModel(Tiny(5));
        EncodedPreference[] pairs = [new(Chars.Encode("ab"), Chars.Encode("ccc"), Chars.Encode("hg")), new(Chars.Encode("fe"), Chars.Encode("a"), Chars.Encode("bbd"))];
        pairs = [.. pairs, .. pairs.Select(p => p with { Chosen = p.Rejected, Rejected = p.Chosen })];
        var chosen = model.Score(pairs.Select(p => p.ChosenSequence).ToArray());
        var rejected = model.Score(pairs.Select(p => p.RejectedSequence).ToArray());
        var expected = chosen.Zip(rejected, (c, r) => Math.Log(1 + Math.Exp(-(c - r)))).Average();
        Assert.Contains(chosen.Zip(rejected), d => d.First < d.Second);
        Assert.Equal(expected, model.Evaluate(pairs).Loss, 9);
    }

    [Fact]
    public void Entropy_OfUniformLogitsIsLogV_AndOfAOneHotLimitIsNearZero()
    {
        // H = −Σ p log p: log 5 for five equal logits; a distribution nearly all on one token has nearly none.
        var entropy = SequenceLogProbs.Entropy(Tensor.FromArray([0f, 0f, 0f, 0f, 0f, 30f, 0f, 0f, 0f, 0f], 2, 5)).ToArray();
        Assert.Equal(Math.Log(5), entropy[0], 5);
        Assert.InRange(entropy[1], 0, 1e-9 + 4 * 31 * Math.Exp(-30));   // 4 e^−30 (30 + log Z) at most
    }

    [Fact]
    public void LossMaskView_BracketsExactlyTheLearnedTokens()
    {
        var view = new LossMaskView(["<|bos|>", "Q", "?", "A", "!"], [0, 0, 0, 1, 1], [true, false, false, false, false], "pair");
        Assert.Equal("pair: <|bos|>Q?[A][!]", view.ToString());
        Assert.Contains("2 learned", view.ToHtml());
    }

    [Fact]
    public void SequenceLogProbs_SumTheResponseTokensOnly_AsCrossEntropyWouldScoreThem()
    {
        var gpt = Tiny();
        var items = new[] { new PromptResponse(Chars.Encode("abc"), Chars.Encode("de")), new PromptResponse(Chars.Encode("a"), Chars.Encode("hhgf")) };
        var batch = ResponseBatch.Create(items);
        Assert.Equal(5, batch.Length);
        var sums = SequenceLogProbs.Compute(gpt, batch).ToArray();
        for (var i = 0; i < items.Length; i++)
        {
            // The same by hand: the full sequence alone, cross-entropy at the response positions.
            var seq = items[i].Prompt.Concat(items[i].Response).ToArray();
            var logits = gpt.Forward(Tensor.FromArray(seq[..^1], 1, seq.Length - 1));
            var nll = F.CrossEntropy(logits.View(seq.Length - 1, -1), Tensor.FromArray(seq[1..], seq.Length - 1), reduction: Reduction.None).ToArray();
            var expected = -nll.Skip(items[i].Prompt.Length - 1).Sum();
            Assert.Equal(expected, sums[i], 4);
        }
        var means = SequenceLogProbs.Compute(gpt, batch, LogProbReduction.Mean).ToArray();
        Assert.Equal(sums[1] / 4, means[1], 5);
        Assert.Throws<ArgumentException>(() => ResponseBatch.Create([new PromptResponse([], [1])]));
    }

    [Fact]
    public void ReferenceCache_HoldsTheReferenceValues()
    {
        var gpt = Tiny();
        var items = new[] { new PromptResponse(Chars.Encode("ab"), Chars.Encode("cd")), new PromptResponse(Chars.Encode("b"), Chars.Encode("aaa")) };
        var cache = new ReferenceLogProbs(gpt, items, LogProbReduction.Sum);
        var direct = SequenceLogProbs.Evaluate(gpt, items);
        Assert.Equal(direct[1], cache[1], 9);
        Assert.Equal((float)direct[0], cache.Gather([0]).Item(), 6);
    }

    [Fact]
    public void Rollouts_AreReproducible_AndIndependentOfBatching()
    {
        var gpt = Tiny();
        int[][] prompts = [Chars.Encode("ab"), Chars.Encode("c"), Chars.Encode("de"), Chars.Encode("f")];
        var all = Rollouts.Sample(gpt, prompts, 6, seed: 9);
        var again = Rollouts.Sample(gpt, prompts, 6, seed: 9, batchSize: 1);
        Assert.Equal(all, again);
        Assert.All(all, r => Assert.Equal(6, r.Length));
        // Greedy with the cache equals the model's own greedy generation.
        var greedy = Rollouts.Sample(gpt, [prompts[0]], 6, Sampling.Greedy);
        Assert.Equal(gpt.GenerateTokens(prompts[0], 6, Sampling.Greedy)[2..], greedy[0]);
        Assert.Throws<ArgumentException>(() => Rollouts.Sample(gpt, prompts, 30));
    }

    [Theory]
    [InlineData(RewardPooling.LastToken)]
    [InlineData(RewardPooling.ResponseMean)]
    public void RewardModelScores_DoNotDependOnThePaddingOrTheOtherRows(RewardPooling pooling)
    {
        var model = new RewardModel(Tiny(), pooling: pooling);
        var shortItem = new PromptResponse(Chars.Encode("a"), Chars.Encode("bc"));
        var longItem = new PromptResponse(Chars.Encode("hh"), Chars.Encode("gfedcba"));
        var alone = model.Score([shortItem])[0];
        var together = model.Score([longItem, shortItem]);
        Assert.Equal(alone, together[1], 5);
        // And the response matters (the prompt's last token alone does not decide the score).
        Assert.NotEqual(model.Score([new PromptResponse(Chars.Encode("a"), Chars.Encode("hh"))])[0], alone, 5);
    }

    [Theory]
    [InlineData(RewardPooling.LastToken)]
    [InlineData(RewardPooling.ResponseMean)]
    public void RewardModel_LearnsASimplePreference(RewardPooling pooling)
    {
        // Chosen responses contain an 'a', rejected ones do not.
        var random = new Random(1);
        string Word(bool withA) => new(Enumerable.Range(0, 5).Select(i => withA && i == 2 ? 'a' : "bcdefgh"[random.Next(7)]).ToArray());
        var pairs = Enumerable.Range(0, 96).Select(_ => new EncodedPreference(Chars.Encode("h "), Chars.Encode(Word(true)), Chars.Encode(Word(false)))).ToList();
        var model = new RewardModel(Tiny(), pooling: pooling);
        var (before, _) = model.Evaluate(pairs);
        var history = RewardModelTrainer.Train(model, pairs, new RewardTrainingOptions { Epochs = 8, BatchSize = 16, LearningRate = 3e-3f });
        var (after, loss) = model.Evaluate(pairs);
        Assert.True(after > 0.9 && after > before, $"accuracy {before:P0} → {after:P0}");
        Assert.True(history[^1].Loss < history[0].Loss);
        Assert.True(loss < Math.Log(2));
    }

    [Fact]
    public void Ppo_RaisesARewardForOneCharacter_OnATinyModel()
    {
        var policy = Tiny();
        var reference = Policies.Copy(policy);
        double[] CountA(IReadOnlyList<string> prompts, IReadOnlyList<string> responses) => responses.Select(r => (double)r.Count(c => c == 'a')).ToArray();
        var trainer = new PpoTrainer(policy, reference, CountA, ["b", "c"], new PpoOptions
        {
            Iterations = 25, BatchSize = 16, MiniBatchSize = 8, ResponseLength = 8, LearningRate = 3e-3f, KlCoef = 0.01,
        });
        var history = trainer.Run();
        Assert.All(history, s => Assert.True(double.IsFinite(s.Kl) && double.IsFinite(s.Entropy)));
        var early = history.Take(5).Average(s => s.LearnedReward);
        var late = history.TakeLast(5).Average(s => s.LearnedReward);
        Assert.True(late > early + 1, $"mean count of 'a' {early:F2} → {late:F2}");
        Assert.True(history[^1].Kl > 0);
        Assert.True(trainer.ForwardPasses > 0 && trainer.BackwardPasses == 25 * 4 * 2);
    }

    [Fact]
    public void Grpo_InformativeGroups_AreThoseWhoseRewardsDiffer()
    {
        // A group whose samples all get the same reward has advantages of 0: no signal. Constant rewards: none of the
        // groups is informative; rewards alternating 0, 1 within every group: all of them.
        GrpoOptions Options() => new() { Iterations = 1, PromptsPerStep = 2, GroupSize = 4, MaxNewTokens = 2, KlCoef = 0 };
        var constant = new GrpoTrainer(Tiny(), null, ["b", "c"], (_, _) => 1, Options()).Run();
        Assert.Equal(0, constant[0].InformativeGroups);
        var calls = 0;
        var alternating = new GrpoTrainer(Tiny(), null, ["b", "c"], (_, _) => calls++ % 2, Options()).Run();
        Assert.Equal(1, alternating[0].InformativeGroups);
    }

    [Fact]
    public void Grpo_RaisesAVerifiableReward_OnATinyModel()
    {
        var policy = Tiny();
        var reference = Policies.Copy(policy);
        var trainer = new GrpoTrainer(policy, reference, ["b", "c"], (_, r) => r.StartsWith('a') ? 1 : 0, new GrpoOptions
        {
            Iterations = 30, PromptsPerStep = 4, GroupSize = 8, MaxNewTokens = 3, LearningRate = 1e-2f,
        });
        var history = trainer.Run();
        var early = history.Take(5).Average(s => s.MeanReward);
        var late = history.TakeLast(5).Average(s => s.MeanReward);
        Assert.True(late > early + 0.3, $"exact-match rate {early:P0} → {late:P0}");
    }

    [Fact]
    public void PreferenceTrainer_Dpo_RaisesTheMarginOnItsPairs()
    {
        var policy = Tiny();
        var reference = Policies.Copy(policy);
        var pairs = Enumerable.Range(0, 32).Select(i => new EncodedPreference(Chars.Encode("ab"), Chars.Encode("aaaa"), Chars.Encode("hhhh"))).ToList();
        var trainer = new PreferenceTrainer(policy, reference, pairs, new PreferenceOptions { Epochs = 10, BatchSize = 8, LearningRate = 3e-3f, Beta = 0.1, WarmupSteps = 0 });
        var history = trainer.Run();
        Assert.True(history[^1].Margin > history[0].Margin + 1, $"margin {history[0].Margin:F2} → {history[^1].Margin:F2}");
        Assert.True(history[^1].Accuracy == 1);
        Assert.Equal(40, trainer.BackwardPasses);
        var (margin, accuracy) = trainer.Evaluate(pairs, reference);
        Assert.True(margin > 1 && accuracy == 1);
    }

    [Fact]
    public void PreferenceTrainer_BeforeItLearns_RanksEveryPairAsATie_AndScoresHalf_AndItsCacheIsTheReferences()
    {
        var policy = Tiny();
        var reference = Policies.Copy(policy);
        var pairs = Enumerable.Range(0, 8).Select(i => new EncodedPreference(Chars.Encode("ab"), Chars.Encode("a" + (char)('b' + i % 6)), Chars.Encode("hh"))).ToList();
        var trainer = new PreferenceTrainer(policy, reference, pairs, new PreferenceOptions { BatchSize = 8, LearningRate = 1e-3f, WarmupSteps = 0 });
        // The policy still equals its reference: every margin is 0, a tie, which counts half (a coin flip's score), not as wrong.
        var (margin, accuracy) = trainer.Evaluate(pairs, reference);
        Assert.Equal(0, margin);
        Assert.Equal(0.5, accuracy);
        var first = trainer.RunEpoch()[0];   // measured on the batch's forward pass, before the update
        Assert.Equal(0, first.Margin);
        Assert.Equal(0.5, first.Accuracy);
        // The trainer's cache holds the reference's values: a fresh forward pass of the reference gives them.
        var fresh = SequenceLogProbs.Evaluate(reference, pairs.Select(p => p.ChosenSequence).ToArray());
        for (var i = 0; i < pairs.Count; i++) Assert.Equal(fresh[i], trainer.ReferenceChosen[i], 5);
        Assert.Equal(SequenceLogProbs.Evaluate(reference, [pairs[3].RejectedSequence])[0], trainer.ReferenceRejected[3], 5);
    }

    [Fact]
    public void BradleyTerryAccuracy_CountsATieAsHalf()
    {
        Assert.Equal((1 + 0 + 0.5 + 1) / 4.0, BradleyTerry.Accuracy([1.5, -0.2, 0, 3]));
        Assert.Equal(0.5, BradleyTerry.Accuracy([0, 0, 0]));
        Assert.True(double.IsNaN(BradleyTerry.Accuracy([])));
    }
}
