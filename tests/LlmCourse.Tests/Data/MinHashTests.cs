using LlmCourse.Data;

namespace LlmCourse.Tests.Data;

public sealed class MinHashTests
{
    /// <summary>Two sets over a union of <paramref name="union"/> shingles sharing <paramref name="shared"/>: Jaccard shared/union exactly.</summary>
    static (HashSet<ulong> A, HashSet<ulong> B) PairWithJaccard(Random random, int union, int shared)
    {
        var ids = new HashSet<ulong>();
        while (ids.Count < union) ids.Add((ulong)random.NextInt64());
        var all = ids.ToArray();
        var onlyA = (union - shared) / 2;
        var a = all.Take(shared + onlyA).ToHashSet();
        var b = all.Take(shared).Concat(all.Skip(shared + onlyA)).ToHashSet();
        return (a, b);
    }

    [Fact]
    public void EstimatedJaccard_IsWithinFourStandardErrorsOfTheExactOne_OnRandomPairs()
    {
        // One hash function's minima agree with probability J, so with k = 112 functions the estimate has
        // standard error √(J(1−J)/k) ≤ 0.047. Bound: every pair within 4 standard errors (plus 1/k for
        // the granularity), and the mean error, over 300 pairs, within 0.01 of zero (the estimate is unbiased).
        var minHash = new MinHash();
        var random = new Random(7);
        var errors = new List<double>();
        for (var pair = 0; pair < 300; pair++)
        {
            var union = 50 + random.Next(300);
            var (a, b) = PairWithJaccard(random, union, random.Next(union + 1));
            var exact = MinHash.Jaccard(a, b);
            var estimate = MinHash.EstimatedJaccard(minHash.Signature(a), minHash.Signature(b));
            var bound = 4 * Math.Sqrt(exact * (1 - exact) / minHash.HashCount) + 1.0 / minHash.HashCount;
            Assert.True(Math.Abs(estimate - exact) <= bound, $"pair {pair}: estimate {estimate:F3}, exact {exact:F3}, bound {bound:F3}");
            errors.Add(estimate - exact);
        }
        Assert.InRange(errors.Average(), -0.01, 0.01);
        Assert.InRange(errors.Select(Math.Abs).Average(), 0.0, 0.04);
    }

    [Fact]
    public void Jaccard_OfHandMadeSets()
    {
        Assert.Equal(2.0 / 4, MinHash.Jaccard(new HashSet<ulong> { 1, 2, 3 }, new HashSet<ulong> { 2, 3, 4 }));
        Assert.Equal(1.0, MinHash.Jaccard(new HashSet<ulong>(), new HashSet<ulong>()));
        Assert.Equal(0.0, MinHash.Jaccard(new HashSet<ulong> { 1 }, new HashSet<ulong> { 2 }));
    }

    [Fact]
    public void Shingles_AreWordFiveGramsOfTheNormalForm()
    {
        var minHash = new MinHash();
        // 7 words: 3 five-grams; punctuation, case and accents do not matter.
        Assert.Equal(3, minHash.Shingles("One two three four five six seven").Count);
        Assert.Equal(minHash.Shingles("Café au lait, s'il vous plaît"), minHash.Shingles("cafe AU lait s il vous plait"));
        Assert.Single(minHash.Shingles("too short"));
        Assert.Empty(minHash.Shingles("  ... "));
        Assert.Equal(minHash.Signature("A rose by any other name would smell as sweet"),
                     minHash.Signature("a ROSE, by any other name, would smell as sweet!"));
    }

    [Theory]
    [InlineData(0.70, 0.56)]
    [InlineData(0.75, 0.77)]
    [InlineData(0.80, 0.92)]
    [InlineData(0.85, 0.99)]
    public void DetectionProbability_IsFineWebsCurve(double similarity, double published)
    {
        // 1 − (1 − s⁸)¹⁴, as quoted to two digits by FineWeb.
        Assert.Equal(published, LshIndex.DetectionProbability(similarity), 2);
    }

    [Fact]
    public void DetectionRate_OfSimulatedPairs_FollowsTheFormula()
    {
        // 400 pairs at each similarity: the detected share is binomial, standard error ≤ 0.025;
        // we allow 0.07 (about 3 standard errors) around 1 − (1 − s⁸)¹⁴.
        var minHash = new MinHash(seed: 3);
        var random = new Random(11);
        foreach (var (similarity, shared) in new[] { (0.70, 140), (0.75, 150), (0.80, 160), (0.85, 170), (0.50, 100) })
        {
            var detected = 0;
            const int trials = 400;
            for (var t = 0; t < trials; t++)
            {
                var (a, b) = PairWithJaccard(random, 200, shared);
                var index = new LshIndex();
                index.Add(0, minHash.Signature(a));
                if (index.Add(1, minHash.Signature(b)).Count > 0) detected++;
            }
            var expected = LshIndex.DetectionProbability(similarity);
            Assert.True(Math.Abs((double)detected / trials - expected) < 0.07,
                $"Jaccard {similarity}: {detected}/{trials} detected, formula {expected:F3}");
        }
    }

    [Fact]
    public void Signature_OfOneShingle_IsAnAffineFunctionModTheMersennePrime()
    {
        // Each hash is h(x) = (a·x + b) mod p with p = 2⁶¹ − 1, so on x, x + d, x + 2d the second difference
        // h(x) − 2h(x + d) + h(x + 2d) is 0 mod p, every value is below p, and x and x + p hash alike.
        // Checked with BigInteger arithmetic, on x up to p, where a·x needs the 122-bit product and its fold.
        const ulong p = (1UL << 61) - 1;
        var minHash = new MinHash(hashCount: 16, seed: 5);
        var random = new Random(13);
        for (var trial = 0; trial < 50; trial++)
        {
            var d = 1 + (ulong)random.NextInt64(1L << 58);
            var x = (ulong)random.NextInt64((long)(p - 2 * d));
            var h0 = minHash.Signature([x]);
            var h1 = minHash.Signature([x + d]);
            var h2 = minHash.Signature([x + 2 * d]);
            Assert.Equal(h0, minHash.Signature([x + p]));
            for (var i = 0; i < minHash.HashCount; i++)
            {
                Assert.True(h0[i] < p && h1[i] < p && h2[i] < p, $"hash {i}: a value not reduced mod p");
                var second = ((System.Numerics.BigInteger)h0[i] - 2 * (System.Numerics.BigInteger)h1[i] + h2[i]) % p;
                Assert.True(second.IsZero, $"trial {trial}, hash {i}: second difference {second} mod p");
                Assert.NotEqual(h0[i], h1[i]);   // a ≠ 0: the function is not constant
            }
        }
    }

    /// <summary>A hand-made 112-value signature: value <c>owner · 1000 + position</c>, so two documents agree exactly where we copy.</summary>
    static ulong[] HandSignature(int owner) => Enumerable.Range(0, 112).Select(i => (ulong)(owner * 1000 + i)).ToArray();

    [Fact]
    public void Lsh_PairsDocumentsThatAgreeOnAWholeBand_AndOnlyInTheSameBand()
    {
        // 14 bands of 8 rows: positions 8b .. 8b + 7 form band b.
        var original = HandSignature(1);
        var lastBand = HandSignature(2);                    // agrees with the original on band 13 only
        Array.Copy(original, 104, lastBand, 104, 8);
        var sevenOfEight = (ulong[])original.Clone();       // agrees on 98 of 112 values, but on no whole band
        for (var band = 0; band < 14; band++) sevenOfEight[band * 8 + band % 8] = 999_999;
        var shifted = HandSignature(4);                     // the original's band 0 values, but in band 1
        Array.Copy(original, 0, shifted, 8, 8);

        var index = new LshIndex(14, 8);
        Assert.Empty(index.Add(0, original));
        Assert.Equal([0], index.Add(1, lastBand));
        Assert.Empty(index.Add(2, sevenOfEight));
        Assert.Empty(index.Add(3, shifted));
        Assert.Equal([(0, 1)], index.CandidatePairs);
    }

    [Fact]
    public void Lsh_ReturnsEachEarlierDocumentOnce_EvenWhenItSharesEveryBand()
    {
        var signature = HandSignature(1);
        var index = new LshIndex(14, 8);
        Assert.Empty(index.Add(0, signature));
        Assert.Equal([0], index.Add(1, signature));         // 14 shared bands, one candidate
        Assert.Equal([0, 1], index.Add(2, signature).Order());
        Assert.Equal([(0, 1), (0, 2), (1, 2)], index.CandidatePairs.Order());
    }

    [Fact]
    public void Lsh_RefusesASignatureTooShortForItsBands()
    {
        var e = Assert.Throws<ArgumentException>(() => new LshIndex(14, 8).Add(0, new ulong[100]));
        Assert.Contains("112", e.Message);
    }
}
