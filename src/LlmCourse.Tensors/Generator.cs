namespace LlmCourse.Tensors;

/// <summary>
/// A seeded random number generator (xoshiro256**, seeded through SplitMix64). The same seed gives
/// the same numbers on every run and every machine: nothing here depends on time, threads or SIMD width.
/// Not thread-safe: give each thread its own generator when determinism matters.
/// </summary>
public sealed class Generator
{
    ulong s0, s1, s2, s3;

    public Generator(ulong seed) => Seed(seed);

    /// <summary>The generator used when an op is given none; <see cref="Tensor.ManualSeed"/> reseeds it.</summary>
    public static Generator Default { get; } = new(0x5EED);

    /// <summary>Restarts the sequence from <paramref name="seed"/>.</summary>
    public void Seed(ulong seed)
    {
        InitialSeed = seed;
        var x = seed;
        s0 = SplitMix(ref x);
        s1 = SplitMix(ref x);
        s2 = SplitMix(ref x);
        s3 = SplitMix(ref x);
    }

    public ulong InitialSeed { get; private set; }

    static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 random bits, every value exactly representable.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, maxExclusive), without modulo bias (Lemire's method).</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "NextInt: the bound must be positive.");
        var bound = (ulong)maxExclusive;
        while (true)
        {
            var product = Math.BigMul(NextUInt64() >> 32, bound);
            var low = (uint)product;
            if (low >= (uint)((0x1_0000_0000UL - bound) % bound)) return (int)(product >> 32);
        }
    }

    /// <summary>Standard normal sample (Box–Muller in double precision, one of the pair per call).</summary>
    public float NextGaussian()
    {
        var u1 = 1.0 - NextDouble(); // (0, 1]: the log stays finite
        var u2 = NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    /// <summary>Fills a span with standard normal samples, both values of each Box–Muller pair used.</summary>
    internal void FillGaussian(Span<float> values, float mean, float std)
    {
        var i = 0;
        for (; i + 1 < values.Length; i += 2)
        {
            var u1 = 1.0 - NextDouble();
            var u2 = NextDouble();
            var r = Math.Sqrt(-2.0 * Math.Log(u1));
            var (sin, cos) = Math.SinCos(2.0 * Math.PI * u2);
            values[i] = mean + std * (float)(r * cos);
            values[i + 1] = mean + std * (float)(r * sin);
        }
        if (i < values.Length) values[i] = mean + std * NextGaussian();
    }

    internal void FillUniform(Span<float> values, float low, float high)
    {
        var range = high - low;
        for (var i = 0; i < values.Length; i++) values[i] = low + range * NextFloat();
    }
}
