using LlmCourse.Data;

namespace LlmCourse.Tests.Data;

public sealed class NearDedupTests
{
    const string Sonnet =
        "Shall I compare thee to a summer's day? Thou art more lovely and more temperate. Rough winds do shake the " +
        "darling buds of May, and summer's lease hath all too short a date. Sometime too hot the eye of heaven shines, " +
        "and often is his gold complexion dimm'd; and every fair from fair sometime declines, by chance or nature's " +
        "changing course untrimm'd. But thy eternal summer shall not fade, nor lose possession of that fair thou ow'st.";

    const string Other =
        "Now is the winter of our discontent made glorious summer by this sun of York; and all the clouds that lour'd " +
        "upon our house in the deep bosom of the ocean buried. Now are our brows bound with victorious wreaths, our " +
        "bruised arms hung up for monuments, our stern alarums changed to merry meetings, our dreadful marches to " +
        "delightful measures. Grim-visaged war hath smooth'd his wrinkled front.";

    [Fact]
    public void HandMadeCluster_KeepsTheFirstOfEachCluster()
    {
        // b edits one word of a, c edits one more word of b: a–b and b–c are near duplicates, and a–c is
        // reached through union-find even if its own pair were missed. d is unrelated; e is d with a line added.
        var a = Sonnet;
        var b = Sonnet.Replace("lovely", "lively");
        var c = b.Replace("Rough winds", "Rough storms");
        var d = Other;
        var e = Other + " Reposted from the archive.";
        var documents = new[] { a, d, b, c, e }.Select((t, i) => new Document($"d{i}", t)).ToArray();

        var stage = new NearDedup();
        var (kept, card) = new DataPipeline(stage).Run(documents);

        Assert.Equal(["d0", "d1"], kept.Select(k => k.Id));
        Assert.Equal([[0, 2, 3], [1, 4]], stage.LastClusters);
        Assert.Equal(3, card.Stages[0].DocumentsRemoved);
        Assert.Equal(("near duplicate", 3), card.Stages[0].Reasons.Single());
    }

    [Fact]
    public void DifferentDocuments_AreAllKept()
    {
        var documents = new[] { Sonnet, Other, "An entirely different page about ships, storms and the wide grey sea at dawn." }
            .Select((t, i) => new Document($"d{i}", t));
        var (kept, _) = new DataPipeline(new NearDedup()).Run(documents);
        Assert.Equal(3, kept.Count);
    }

    [Fact]
    public void UnionFind_MergesTransitively()
    {
        var sets = new UnionFind(6);
        Assert.True(sets.Union(0, 1));
        Assert.True(sets.Union(3, 4));
        Assert.True(sets.Union(1, 4));
        Assert.False(sets.Union(0, 3));   // already one set
        Assert.Equal(sets.Find(0), sets.Find(4));
        Assert.NotEqual(sets.Find(0), sets.Find(2));
        Assert.Equal([[0, 1, 3, 4]], sets.Clusters());
    }
}
