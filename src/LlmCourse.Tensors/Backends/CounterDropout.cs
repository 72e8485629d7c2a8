namespace LlmCourse.Tensors.Backends;

/// <summary>
/// Fused attention's dropout decisions, counter-based: entry <c>index</c> of a stream seeded <c>seed</c> is
/// kept when the <c>index + 1</c>-th output of SplitMix64 started at <c>seed</c>, as a float in [0, 1) with
/// 24 bits (the engine's <see cref="Generator.NextFloat"/> resolution), is below <c>keep</c>. Each decision
/// is a function of its index alone, so a GPU thread computes its own entry's decision with no mask in
/// memory and no sequential draws, and the CPU backend and attention.cu's <c>kept</c> make exactly the
/// same decisions (the same integer operations and one exact float multiply). PyTorch's CUDA dropout is
/// counter-based for the same reason (Philox).
/// </summary>
internal static class CounterDropout
{
    public static bool Keeps(ulong seed, ulong index, float keep)
    {
        var z = seed + 0x9E3779B97F4A7C15UL * (index + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 40) * (1f / (1 << 24)) < keep;
    }
}
