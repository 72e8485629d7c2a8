using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tokenizers;

/// <summary>One merge rule: the adjacent tokens <see cref="Left"/> and <see cref="Right"/> become <see cref="Id"/>.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public readonly record struct BpeMerge(int Left, int Right, int Id)
{
    /// <summary>The pair as one 64-bit key: left in the high half, so keys sort like (left, right).</summary>
    internal long Key => PairKey(Left, Right);

    internal static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    internal static (int Left, int Right) FromKey(long key) => ((int)(key >> 32), (int)key);
}
