using System.Text;
using FsCheck;
using FsCheck.Fluent;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Tokenizers;

/// <summary>The fast merge loops (short pieces: array scan; long pieces: heap) against the plainly written rule.</summary>
public sealed class BytePairMergeTests
{
    static int[] Fast(ReadOnlySpan<byte> piece, BpeVocabulary vocabulary)
    {
        var ids = new int[piece.Length];
        return ids[..BytePairMerge.Encode(piece, vocabulary, ids)];
    }

    /// <summary>Bytes of text-like pieces: letters, spaces, punctuation and UTF-8 of other scripts, short and long.</summary>
    static readonly Gen<byte[]> Pieces = Gen.Frequency(
            (3, Gen.Choose(0, 20)), (1, Gen.Choose(100, 400)))
        .SelectMany(length => Gen.ArrayOf(Gen.Elements("e", "t", "a", "th", "in", " ", "  ", "\n", ".", "é", "日本", "😀", "ab", "aa", "0", "1")
            .Select(s => s), length))
        .Select(parts => Encoding.UTF8.GetBytes(string.Concat(parts)));

    [Fact]
    public void Fast_IsTheReference_OnGpt2sVocabulary()
    {
        var vocabulary = TestData.Gpt2().Vocabulary;
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(400), Prop.ForAll(Pieces.ToArbitrary(), piece =>
            Assert.Equal(BytePairMerge.Reference(piece, vocabulary), Fast(piece, vocabulary))));
    }

    [Fact]
    public void Fast_IsTheReference_OnRandomBytes()
    {
        var vocabulary = TestData.Gpt2().Vocabulary;
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), Prop.ForAll(Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 300).ToArbitrary(), piece =>
            Assert.Equal(BytePairMerge.Reference(piece, vocabulary), Fast(piece, vocabulary))));
    }

    [Fact]
    public void Fast_IsTheReference_OnLongRuns()
    {
        var vocabulary = TestData.Gpt2().Vocabulary;
        foreach (var piece in new[] { new string(' ', 1000), new string('a', 777), string.Concat(Enumerable.Repeat("ab", 300)), new string('\n', 129) })
        {
            var bytes = Encoding.UTF8.GetBytes(piece);
            Assert.Equal(BytePairMerge.Reference(bytes, vocabulary), Fast(bytes, vocabulary));
        }
    }

    [Fact]
    public void Gpt2sRecoveredMerges_AreItsFiftyThousand()
    {
        // GPT-2's merges.txt has 50,000 merges and its first is "Ġ t" (space + t).
        var vocabulary = TestData.Gpt2().Vocabulary;
        var merges = vocabulary.Merges;
        Assert.Equal(50_000, merges.Count);
        Assert.Equal(" t", vocabulary.Display(merges[0].Id));
        Assert.Equal((" ", "t"), (vocabulary.Display(merges[0].Left), vocabulary.Display(merges[0].Right)));
        foreach (var (left, right, id) in merges)
            Assert.Equal(vocabulary.BytesOf(id).ToArray(), (byte[])[.. vocabulary.BytesOf(left), .. vocabulary.BytesOf(right)]);
    }

    [Fact]
    public void Encode_RefusesTooSmallABuffer()
    {
        var e = Assert.Throws<ArgumentException>(() => BytePairMerge.Encode("abc"u8, TestData.Gpt2().Vocabulary, new int[2]));
        Assert.Contains("room for 2 ids, the piece has 3 bytes", e.Message);
    }
}
