using System.Text;
using FsCheck;
using FsCheck.Fluent;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Tokenizers;

public sealed class BpeTrainerTests
{
    [Fact]
    public void TextbookExample_MergesAsWikipedia()
    {
        // Wikipedia's "Byte pair encoding": aaabdaaabac -> ZabdZabac (Z=aa) -> ZYdZYac (Y=ab) -> XdXac (X=ZY).
        var tokenizer = BpeTokenizer.Train("aaabdaaabac", 256 + 3);
        int a = 'a', b = 'b', c = 'c', d = 'd', Z = 256, Y = 257, X = 258;

        Assert.Equal([new BpeMerge(a, a, Z), new BpeMerge(a, b, Y), new BpeMerge(Z, Y, X)], tokenizer.Merges);
        Assert.Equal([4L, 2L, 2L], tokenizer.TrainingLog!.Select(s => s.Count));
        Assert.Equal([X, d, X, a, c], tokenizer.Encode("aaabdaaabac"));
        Assert.Equal("aaab", tokenizer.Vocabulary.Display(X));
    }

    [Fact]
    public void TextbookExample_TieBetweenZaAndAb_GoesToTheSmallerPair()
    {
        // After Z=aa, "Za" and "ab" both occur twice: (97, 98) < (256, 97), so ab is merged, as on Wikipedia.
        var steps = BpeTrainer.TrainReference([(Encoding.ASCII.GetBytes("aaabdaaabac"), 1)], 2);
        Assert.Equal(2, steps[1].Count);
        Assert.Equal(new BpeMerge('a', 'b', 257), steps[1].Merge);
    }

    [Fact]
    public void PairCounts_CountOverlappingPairs_MostFrequentFirst()
    {
        var counts = BpeTrainer.PairCounts("aaabdaaabac".Select(c => (int)c).ToArray());
        Assert.Equal(('a', 'a', 4L), (counts[0].Left, counts[0].Right, counts[0].Count));
        Assert.Equal(('a', 'b', 2L), (counts[1].Left, counts[1].Right, counts[1].Count));
        Assert.Equal(10, counts.Sum(c => c.Count)); // 11 characters, 10 adjacent pairs
    }

    [Fact]
    public void RunsOfOneByte_MergeLeftToRight()
    {
        // "aaaaa": 4 overlapping "aa" pairs; merging left to right leaves Z Z a.
        var tokenizer = BpeTokenizer.Train("aaaaa", 257);
        Assert.Equal(4, tokenizer.TrainingLog![0].Count);
        Assert.Equal([256, 256, 'a'], tokenizer.Encode("aaaaa"));
    }

    [Fact]
    public void Training_StopsWhenNoPairIsLeft()
    {
        var tokenizer = BpeTokenizer.Train("abc", 1000);
        Assert.Equal(2, tokenizer.Merges.Count);
        Assert.Equal(258, tokenizer.VocabSize);
        Assert.Equal([257], tokenizer.Encode("abc"));
    }

    /// <summary>Words over a tiny alphabet with counts: many ties, runs and overlaps.</summary>
    static readonly Gen<(byte[] Bytes, long Count)[]> Words =
        Gen.ListOf(Gen.Zip(Gen.ArrayOf(Gen.Elements((byte)'a', (byte)'b', (byte)'c', (byte)' ')), Gen.Choose(1, 5)))
            .Select(words => words.Select(w => (w.Item1, (long)w.Item2)).ToArray());

    [Fact]
    public void Incremental_MakesTheReferencesMerges_OnRandomWords()
    {
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(Words.ToArbitrary(), Gen.Choose(0, 40).ToArbitrary(), (words, merges) =>
        {
            Assert.Equal(BpeTrainer.TrainReference(words, merges), BpeTrainer.Train(words, merges));
        }));
    }

    [Fact]
    public void Incremental_MakesTheReferencesMerges_OnShakespeare()
    {
        var text = TestData.Shakespeare()[..30_000];
        var words = PreTokenizer.Gpt2.Split(text).GroupBy(w => w, StringComparer.Ordinal)
            .Select(g => (Encoding.UTF8.GetBytes(g.Key), (long)g.Count())).ToArray();
        Assert.Equal(BpeTrainer.TrainReference(words, 200), BpeTrainer.Train(words, 200));

        var raw = Encoding.UTF8.GetBytes(text[..5_000]);
        Assert.Equal(BpeTrainer.TrainReference([(raw, 1)], 100), BpeTrainer.Train([(raw, 1)], 100));
    }

    [Fact]
    public void RegexTraining_NeverMergesAcrossPreTokens()
    {
        var text = TestData.Shakespeare()[..100_000];
        var regex = RegexBpeTokenizer.Train(text, 600);
        var basic = BpeTokenizer.Train(text, 600);

        static int Crossing(BpeVocabulary vocabulary) => Enumerable.Range(256, vocabulary.Count - 256)
            .Select(id => Encoding.UTF8.GetString(vocabulary.BytesOf(id)))
            .Count(token => !token.Contains('\uFFFD', StringComparison.Ordinal) && PreTokenizer.Gpt2.Split(token).Count > 1);

        Assert.Equal(0, Crossing(regex.Vocabulary));
        Assert.True(Crossing(basic.Vocabulary) > 50, "the basic tokenizer should learn tokens such as 'e ' that cross words");
    }

    [Fact]
    public void Training_IsTheSameWhateverTheOrderOfWords()
    {
        var words = Words.Sample(20, 1)[0];
        Assert.Equal(BpeTrainer.Train(words, 30), BpeTrainer.Train(words.Reverse().ToArray(), 30));
    }

    [Fact]
    public void SpecialTokens_TakeTheLastIds_AndAreCutFromTheTrainingText()
    {
        var shakespeare = TestData.Shakespeare()[..20_000];
        var text = string.Join("<|endoftext|>", Enumerable.Range(0, 20).Select(i => shakespeare.Substring(i * 1000, 1000)));
        var tokenizer = RegexBpeTokenizer.Train(text, 300, specialTokens: ["<|endoftext|>", "<|pad|>"]);

        Assert.Equal(300, tokenizer.VocabSize);
        Assert.Equal(298, tokenizer.SpecialTokens["<|endoftext|>"]);
        Assert.Equal(299, tokenizer.SpecialTokens["<|pad|>"]);
        // No merge learned from inside the special token's string: it never reached the trainer.
        Assert.DoesNotContain(Enumerable.Range(256, tokenizer.Vocabulary.Count - 256),
            id => Encoding.UTF8.GetString(tokenizer.Vocabulary.BytesOf(id)).Contains('|', StringComparison.Ordinal));
        Assert.Equal(298, tokenizer.Encode("<|endoftext|>", allowedSpecial: SpecialTokens.All).Single());
    }
}
