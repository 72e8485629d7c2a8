using LlmCourse.Data;

namespace LlmCourse.Tests.Data;

/// <summary>Each rule on a hand-made document that passes and one that fails, with the measured value worked out by hand.</summary>
public sealed class QualityRuleTests
{
    static readonly QualityThresholds T = QualityThresholds.Default;

    /// <summary>Prose that passes every rule: 60 words, stop words, sentences ending in full stops.</summary>
    const string Prose =
        "The players came to the castle at dusk, and the king went down to meet them with a lamp in his hand.\n" +
        "They had walked all day from the river, and their carts were heavy with the masks and the painted cloth.\n" +
        "That night they played a tale of two brothers and a stolen crown, and nobody in the hall said a word until the end.\n";

    [Fact]
    public void Prose_PassesEveryRule()
    {
        foreach (var rule in GopherQualityRules.All.Concat(GopherRepetitionRules.All).Concat(FineWebRules.All))
            Assert.True(rule.Apply(Prose, T) is null, $"{rule.Name}: {rule.Apply(Prose, T)}");
    }

    [Fact]
    public void WordCount()
    {
        Assert.Null(GopherQualityRules.WordCount(Prose, T));
        Assert.Equal("4 words < 50", GopherQualityRules.WordCount("Buy now, pay later!", T));
        Assert.Equal("3 words > 2", GopherQualityRules.WordCount("one two three", T with { MinWords = 1, MaxWords = 2 }));
    }

    [Fact]
    public void WordCount_BoundsAreInclusive()
    {
        // Gopher keeps documents of 50 to 100,000 words: 50 passes, 49 fails; likewise 3 words pass a maximum of 3.
        static string Words(int n) => string.Join(' ', Enumerable.Repeat("word", n));
        Assert.Null(GopherQualityRules.WordCount(Words(50), T));
        Assert.Equal("49 words < 50", GopherQualityRules.WordCount(Words(49), T));
        Assert.Null(GopherQualityRules.WordCount("one two three", T with { MinWords = 1, MaxWords = 3 }));
    }

    [Fact]
    public void MeanWordLength()
    {
        // "a b c de": lengths 1, 1, 1, 2 → mean 1.25 < 3.
        Assert.Equal("mean word length 1.25 < 3", GopherQualityRules.MeanWordLength("a b c de", T));
        // One 45-letter word: > 10.
        Assert.Equal("mean word length 45 > 10", GopherQualityRules.MeanWordLength("pneumonoultramicroscopicsilicovolcanoconiosis", T));
        Assert.Null(GopherQualityRules.MeanWordLength("three fine words", T));   // 5, 4, 5 → 4.67
    }

    [Fact]
    public void SymbolToWordRatio()
    {
        // 2 "#" over 10 words → 0.2 > 0.1; the "#" tokens are not words (pure punctuation).
        Assert.Equal("# per word 0.2 > 0.1", GopherQualityRules.SymbolToWordRatio("# # one two three four five six seven eight nine ten...", T));
        Assert.Null(GopherQualityRules.SymbolToWordRatio("one two three four five six seven eight nine ten #", T));   // 1/10 = 0.1, not above
        // Hashes and ellipses are two ratios, each held to 0.1 on its own (Gopher's "for either"): 0.1 and 0.1 pass.
        Assert.Null(GopherQualityRules.SymbolToWordRatio("one two three four five six seven eight nine ten # ...", T));
        Assert.Equal("ellipses per word 0.2 > 0.1", GopherQualityRules.SymbolToWordRatio("one … two three four five six seven eight nine ten # ...", T));
    }

    [Fact]
    public void SymbolToWordRatio_CountsEllipsesWithoutOverlap()
    {
        // "......" is two "..." (as Python's str.count counts them), not four overlapping ones: 2/10 = 0.2.
        Assert.Equal("ellipses per word 0.2 > 0.1", GopherQualityRules.SymbolToWordRatio("one two three four five six seven eight nine ten......", T));
    }

    [Fact]
    public void EllipsisLines()
    {
        // 2 of 4 lines end in "..." or "…" → 0.5 > 0.3.
        Assert.Equal("lines ending in … 0.5 > 0.3", GopherQualityRules.EllipsisLines("Read more...\nA full line.\nClick to continue…\nAnother line.", T));
        Assert.Null(GopherQualityRules.EllipsisLines("Read more...\nA.\nB.\nC.", T));   // 0.25
    }

    [Fact]
    public void BulletLines()
    {
        Assert.Equal("bullet lines 1 > 0.9", GopherQualityRules.BulletLines("• one\n• two\n- three", T));
        Assert.Null(GopherQualityRules.BulletLines("Intro line.\n• one\n• two", T));
        // 9 bullets of 10 lines: exactly 0.9, which is not above the maximum.
        Assert.Null(GopherQualityRules.BulletLines("Intro line.\n" + string.Concat(Enumerable.Repeat("• item\n", 9)), T));
    }

    [Fact]
    public void AlphabeticWords()
    {
        // 3 of 5 words have a letter → 0.6 < 0.8.
        Assert.Equal("words with a letter 0.6 < 0.8", GopherQualityRules.AlphabeticWords("year 1999 revenue 42 total", T));
        Assert.Null(GopherQualityRules.AlphabeticWords("In 1999 the theatre sold out", T));   // 5/6
        // A word needs one letter, not only letters: R2D2, C3PO and 3rd all count → 6/6.
        Assert.Null(GopherQualityRules.AlphabeticWords("R2D2 met C3PO in 3rd act", T));
    }

    [Fact]
    public void StopWords()
    {
        Assert.Equal("1 stop words < 2", GopherQualityRules.StopWordCount("cheap tickets to London best price", T));
        Assert.Null(GopherQualityRules.StopWordCount("The king and the queen", T));
        // Case does not matter: "The" and "And" are stop words (2), where only "the" is in lower case.
        Assert.Null(GopherQualityRules.StopWordCount("The crown And sceptre", T));
    }

    [Fact]
    public void DuplicateLines()
    {
        // 4 lines, 2 repeat an earlier one → 0.5 > 0.3.
        Assert.Equal("duplicate lines 0.5 > 0.3", GopherRepetitionRules.DuplicateLines("Buy now\nBuy now\nBuy now\nSomething else entirely here", T));
        // 1 of 5 lines repeats (0.2 ≤ 0.3), but its characters: 30 of 111 → 0.27 > 0.2.
        var text = "a line of thirty characters ok\nshort\nb\na line of thirty characters ok\nc d e f g h i j k l m n o p q r s t u v w";
        Assert.Equal("characters in duplicate lines 0.27 > 0.2", GopherRepetitionRules.DuplicateLines(text, T));
        Assert.Null(GopherRepetitionRules.DuplicateLines(Prose, T));
    }

    [Fact]
    public void DuplicateLines_AndParagraphs_ReadTheirOwnThresholds()
    {
        // "Buy now" three times in four lines (and one paragraph): 0.5 of lines duplicate, 14 of 52 characters.
        const string text = "Buy now\nBuy now\nBuy now\nSomething else entirely here";
        Assert.Null(GopherRepetitionRules.DuplicateLines(text, T with { MaxDuplicateLineFraction = 0.6, MaxDuplicateLineCharFraction = 0.3 }));
        Assert.Equal("duplicate lines 0.5 > 0.3",
            GopherRepetitionRules.DuplicateLines(text, T with { MaxDuplicateParagraphFraction = 0.6, MaxDuplicateParagraphCharFraction = 1 }));
    }

    [Fact]
    public void DuplicateParagraphs()
    {
        Assert.Equal("duplicate paragraphs 0.5 > 0.3", GopherRepetitionRules.DuplicateParagraphs("Subscribe!\n\nSubscribe!\n\nOther text\n\nSubscribe!", T));
        Assert.Null(GopherRepetitionRules.DuplicateParagraphs("One paragraph.\n\nAnother paragraph.", T));
    }

    [Fact]
    public void TopNGrams_HandComputed()
    {
        // "a b a b a b": bigram "a b" three times, 3 characters each → 9.
        Assert.Equal(9, TextStatistics.TopNGramChars(["a", "b", "a", "b", "a", "b"], 2));
        Assert.Equal(0, TextStatistics.TopNGramChars(["a", "b", "c"], 2));   // no bigram repeats
        // "cheap tickets" 4 times: 13 × 4 = 52 characters of a 59-character text (4 × 14 + 3) → 0.881 > 0.2.
        Assert.Equal("top 2-gram characters 0.881 > 0.2",
            GopherRepetitionRules.TopNGrams("cheap tickets cheap tickets cheap tickets cheap tickets now", T));
        Assert.Null(GopherRepetitionRules.TopNGrams(Prose, T));
    }

    [Fact]
    public void DuplicateNGrams_HandComputed()
    {
        // a b c a b c with n = 2: "ab", "bc", "ca" are new, "ab" repeats (2 chars), jump to index 5: done.
        Assert.Equal(2, TextStatistics.DuplicateNGramChars(["a", "b", "c", "a", "b", "c"], 2));
        // A 5-word sentence said twice: the second copy is one repeated 5-gram of 19 letters (spaces dropped)
        // over 47 characters → 0.404 > 0.15.
        Assert.Equal("characters in repeated 5-grams 0.404 > 0.15",
            GopherRepetitionRules.DuplicateNGrams("buy the best swords now buy the best swords now", T));
        Assert.Null(GopherRepetitionRules.DuplicateNGrams(Prose, T));
    }

    [Fact]
    public void FineWeb_PunctuatedLines()
    {
        // 0 of 3 lines ends in terminal punctuation.
        Assert.Equal("lines ending in punctuation 0 < 0.12", FineWebRules.PunctuatedLines("Home\nAbout us\nContact", T));
        Assert.Null(FineWebRules.PunctuatedLines("Home\nAbout us\nWe sell swords.", T));   // 1/3
    }

    [Fact]
    public void FineWeb_ShortLines()
    {
        Assert.Equal("lines of ≤ 30 characters 0.75 > 0.67", FineWebRules.ShortLines("Home\nAbout\nContact\nThis line is certainly longer than thirty characters.", T));
        Assert.Null(FineWebRules.ShortLines(Prose, T));
        // A line of exactly 30 characters is short (≤ 30): 3 of 4 lines → 0.75.
        const string thirty = "A line of exactly thirty chars";
        Assert.Equal(30, thirty.Length);
        Assert.Equal("lines of ≤ 30 characters 0.75 > 0.67",
            FineWebRules.ShortLines($"Home\nAbout\n{thirty}\nThis line is certainly longer than thirty characters.", T));
    }

    [Fact]
    public void Lines_AreTrimmed_SoCarriageReturnsAndTrailingSpacesDoNotHideTheEnding()
    {
        // Windows line ends and indentation: the lines are the text between them, and blank ones are dropped.
        Assert.Equal(["Read more...", "A full line."], TextStatistics.Lines("  Read more...  \r\n \t \r\nA full line.\r\n"));
        // Both lines end in punctuation once the "\r" is gone: 2/2, and 1 of 2 ends in "..." → 0.5 > 0.3.
        Assert.Null(FineWebRules.PunctuatedLines("We sell swords.\r\nAnd shields!\r\n", T));
        Assert.Equal("lines ending in … 0.5 > 0.3", GopherQualityRules.EllipsisLines("Read more... \r\nA full line.\r\n", T));
    }

    [Fact]
    public void FineWeb_DuplicateLineChars()
    {
        // "ROMEO:" repeated once: 6 of 57 characters (newlines not counted) → 0.105 > 0.01. Plays fail this rule.
        Assert.Equal("characters in repeated lines 0.105 > 0.01",
            FineWebRules.DuplicateLineChars("ROMEO:\nBut soft, what light?\nJULIET:\nAy me!\nROMEO:\nShe speaks.", T));
        Assert.Null(FineWebRules.DuplicateLineChars(Prose, T));
    }

    [Fact]
    public void FineWeb_NewlinesPerWord()
    {
        // 3 newlines over 4 words → 0.75 > 0.3: a list.
        Assert.Equal("newlines per word 0.75 > 0.3", FineWebRules.NewlinesPerWord("milk\neggs\nbread\nbutter", T));
        Assert.Null(FineWebRules.NewlinesPerWord(Prose, T));
    }

    [Fact]
    public void QualityFilter_ReportsTheFirstFailingRuleWithItsValue()
    {
        var documents = new[] { new Document("good", Prose), new Document("table", "1 | 2 | 3\n4 | 5 | 6") };
        var (kept, card) = new DataPipeline(QualityFilter.Gopher()).Run(documents);

        Assert.Equal(["good"], kept.Select(d => d.Id));
        var example = card.Stages.Single().Examples.Single();
        Assert.Equal(("gopher: word count", "6 words < 50"), (example.Reason, example.Detail));
    }
}
