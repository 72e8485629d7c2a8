using LlmCourse.Models;

namespace LlmCourse.Tests.Models;

public sealed class SamplingTests
{
    static readonly float[] Logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.15f), MathF.Log(0.05f)];

    static double[] Frequencies(Sampling sampling, int draws = 40_000)
    {
        var random = new Random(11);
        var counts = new double[Logits.Length];
        for (var i = 0; i < draws; i++) counts[sampling.Sample(Logits, random)]++;
        return counts.Select(c => c / draws).ToArray();
    }

    // 40,000 draws: the standard error of a frequency near 0.5 is 0.0025; 0.015 is six of them.
    const double Tolerance = 0.015;

    [Fact]
    public void Temperature1_DrawsFromTheSoftmax()
    {
        var f = Frequencies(Sampling.Default);
        double[] expected = [0.5, 0.3, 0.15, 0.05];
        for (var i = 0; i < f.Length; i++) Assert.True(Math.Abs(f[i] - expected[i]) < Tolerance, $"token {i}: {f[i]:F4} vs {expected[i]}");
    }

    [Fact]
    public void TemperatureZero_AndTopK1_AreGreedy()
    {
        var random = new Random(0);
        Assert.Equal(0, Sampling.Greedy.Sample(Logits, random));
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal(0, new Sampling(TopK: 1).Sample(Logits, random)));
    }

    [Fact]
    public void TopK_KeepsTheKMostLikely_Renormalised()
    {
        var f = Frequencies(new Sampling(TopK: 2));
        Assert.Equal(0, f[2]);
        Assert.Equal(0, f[3]);
        Assert.True(Math.Abs(f[0] - 0.5 / 0.8) < Tolerance, $"{f[0]}");
    }

    [Fact]
    public void TopP_KeepsTheSmallestNucleus()
    {
        // 0.5 + 0.3 = 0.8 ≥ 0.75: the nucleus is the first two tokens.
        var f = Frequencies(new Sampling(TopP: 0.75f));
        Assert.Equal(0, f[2] + f[3]);
        Assert.True(Math.Abs(f[1] - 0.3 / 0.8) < Tolerance, $"{f[1]}");
    }

    [Fact]
    public void TopP_CountsANucleusThatAddsUpToExactlyP()
    {
        // Four equal logits: probabilities exactly 0.25 each, so two tokens add up to exactly 0.5 (binary fractions, no
        // rounding). "At least p" keeps those two; ties go by id, so they are tokens 0 and 1, half the draws each.
        var random = new Random(3);
        var counts = new int[4];
        for (var i = 0; i < 4_000; i++) counts[new Sampling(TopP: 0.5f).Sample([0f, 0f, 0f, 0f], random)]++;
        Assert.Equal(0, counts[2] + counts[3]);
        Assert.InRange(counts[0], 1_800, 2_200);   // 2,000 expected, standard deviation 32
    }

    [Fact]
    public void TopP_AfterTopK_TakesTheNucleusOfTheRenormalisedSurvivors()
    {
        // Top-k 2 keeps 0.5 and 0.3, renormalised 0.625 and 0.375. Top-p 0.6 on those keeps the first alone
        // (0.625 ≥ 0.6); on the original probabilities it would need both (0.5 < 0.6).
        var f = Frequencies(new Sampling(TopK: 2, TopP: 0.6f));
        Assert.Equal(1.0, f[0]);
        // Top-p 0.7 needs both survivors (0.625 < 0.7), drawn in proportion 0.625 : 0.375.
        f = Frequencies(new Sampling(TopK: 2, TopP: 0.7f));
        Assert.Equal(0, f[2] + f[3]);
        Assert.True(Math.Abs(f[0] - 0.625) < Tolerance, $"{f[0]}");
    }

    [Fact]
    public void LowTemperature_Sharpens_HighTemperature_Flattens()
    {
        Assert.True(Frequencies(new Sampling(Temperature: 0.5f))[0] > 0.6);
        Assert.True(Frequencies(new Sampling(Temperature: 5f))[0] < 0.35);
    }

    [Fact]
    public void BadSettings_AreRefused()
    {
        var random = new Random(0);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampling(Temperature: -1).Sample(Logits, random));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampling(TopP: 0).Sample(Logits, random));
        Assert.Throws<ArgumentException>(() => Sampling.Default.Sample([float.NegativeInfinity], random));
    }
}
