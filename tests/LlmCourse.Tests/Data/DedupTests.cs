using LlmCourse.Data;

namespace LlmCourse.Tests.Data;

public sealed class DedupTests
{
    [Fact]
    public void Normalize_LowersStripsAccentsAndPunctuation_AndCollapsesSpaces()
    {
        Assert.Equal("cafe deja vu 42", TextNormalizer.Normalize("  Café,\tDÉJÀ-vu!!  42 "));
        Assert.Equal("", TextNormalizer.Normalize("... --- !!!"));
        Assert.Equal(["o", "romeo"], TextNormalizer.NormalizedWords("O Romeo!"));
    }

    [Fact]
    public void DocumentDedup_RemovesCopiesThatDifferOnlyInCaseSpacingAndPunctuation()
    {
        var documents = new[]
        {
            new Document("a", "To be, or not to be: that is the question."),
            new Document("b", "TO BE or not  to be -- that is the question"),
            new Document("c", "To be, or not to be: that was the question."),
        };
        var (kept, card) = new DataPipeline(new DocumentDedup()).Run(documents);

        Assert.Equal(["a", "c"], kept.Select(d => d.Id));
        var report = card.Stages.Single();
        Assert.Equal((3, 2, 1), (report.DocumentsIn, report.DocumentsOut, report.DocumentsRemoved));
        Assert.Equal(documents[1].Bytes, report.BytesRemoved);
        Assert.Equal("b", report.Examples.Single().DocumentId);
    }

    [Fact]
    public void LineDedup_CutsLinesSeenInEarlierDocuments_ButNotShortOnes()
    {
        const string nav = "Home | Plays | Sonnets | About us | Contact";
        var documents = new[]
        {
            new Document("a", $"{nav}\nROMEO:\nBut soft, what light through yonder window breaks?"),
            new Document("b", $"{nav}\nROMEO:\nIt is the east, and Juliet is the sun."),
            new Document("c", $"{nav}\nIt is the east, and Juliet is the sun."),
        };
        var (kept, card) = new DataPipeline(new LineDedup()).Run(documents);

        Assert.Equal(["a", "b"], kept.Select(d => d.Id));
        Assert.Equal(documents[0].Text, kept[0].Text);                            // the first copy of the bar stays
        Assert.Equal("ROMEO:\nIt is the east, and Juliet is the sun.", kept[1].Text);   // "ROMEO:" is too short to count
        var reasons = card.Stages.Single().Reasons;
        Assert.Contains(("duplicate lines cut", 1), reasons);
        Assert.Contains(("only duplicate lines", 1), reasons);
    }

    [Fact]
    public void LineDedup_MinWords_IsTheSmallestLineThatCounts()
    {
        // MinWords = 4: "Subscribe to our newsletter" (4 words) is a duplicate the second time, "Back to top" (3) never is.
        var documents = new[]
        {
            new Document("a", "Subscribe to our newsletter\nBack to top\nThe first article is about swords."),
            new Document("b", "Subscribe to our newsletter!\nBack to top\nThe second article is about shields."),
        };
        var (kept, _) = new DataPipeline(new LineDedup()).Run(documents);

        Assert.Equal(documents[0].Text, kept[0].Text);
        Assert.Equal("Back to top\nThe second article is about shields.", kept[1].Text);
    }

    [Fact]
    public void LineDedup_LeavesRepeatsInsideOneDocument_ToTheRepetitionRules()
    {
        // Only lines seen in an earlier document are cut: a's own repeat stays, and b loses the line a introduced.
        const string line = "This line repeats inside one page";
        var documents = new[]
        {
            new Document("a", $"{line}\n{line}\nThe end of page a."),
            new Document("b", $"{line}\nThe end of page b."),
        };
        var (kept, _) = new DataPipeline(new LineDedup()).Run(documents);

        Assert.Equal(documents[0].Text, kept[0].Text);
        Assert.Equal("The end of page b.", kept[1].Text);
    }

    [Fact]
    public void StageReport_CountsEveryRemoval_ButKeepsOnlyTheFirstExamplesPerReason()
    {
        // Six copies of one page: five removed; the card counts five and shows the first three (the default).
        var documents = Enumerable.Range(0, 6).Select(i => new Document($"d{i}", "The same page, copied.")).ToArray();
        var (kept, card) = new DataPipeline(new DocumentDedup()).Run(documents);

        Assert.Equal(["d0"], kept.Select(d => d.Id));
        var report = card.Stages.Single();
        Assert.Equal([("exact duplicate", 5)], report.Reasons);
        Assert.Equal(["d1", "d2", "d3"], report.Examples.Select(e => e.DocumentId));

        var (_, one) = new DataPipeline(new DocumentDedup()) { ExamplesPerReason = 1 }.Run(documents);
        Assert.Equal(["d1"], one.Stages.Single().Examples.Select(e => e.DocumentId));
    }

    [Fact]
    public void Pipeline_ChainsStages_EachSeeingWhatThePreviousKept()
    {
        var documents = new[]
        {
            new Document("a", "the cat sat on the mat and that was all"),
            new Document("b", "The cat sat on the mat, and that was all."),
            new Document("c", "a completely different sentence with other words in it"),
        };
        var (kept, card) = new DataPipeline(new DocumentDedup(), new NearDedup()).Run(documents);

        Assert.Equal(2, kept.Count);
        Assert.Equal(card.Stages[0].DocumentsOut, card.Stages[1].DocumentsIn);
        Assert.Equal(card.Stages[0].BytesOut, card.Stages[1].BytesIn);
        Assert.Equal(documents.Sum(d => (long)d.Bytes), card.BytesIn);
        Assert.Equal(kept.Sum(d => (long)d.Bytes), card.BytesOut);
        Assert.Contains("2 of 3 documents kept", card.Summary().ToHtml());
        Assert.Contains("exact duplicate", card.ToHtml());
    }
}
