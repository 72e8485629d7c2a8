using LlmCourse.Data;
using LlmCourse.Training;

namespace LlmCourse.Tests.Data;

public sealed class TokenShardTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("llmcourse-shard-").FullName;
    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>A token sequence we can check any window of without keeping it: id(i) = (i · 7919 + i / 1000) mod vocab.</summary>
    static int Id(long i, int vocab) => (int)((i * 7919 + i / 1000) % vocab);

    [Theory]
    [InlineData(50_257, 2)]     // GPT-2's vocabulary fits in 16 bits
    [InlineData(100_277, 4)]    // cl100k's does not
    public void Shard_WrittenInChunks_ReadsBackAnyWindow(int vocab, int bytesPerToken)
    {
        // 3 million tokens written 100,000 at a time: the file (6 or 12 MB) is 30 times larger than
        // any piece the writer held, and the reader maps it rather than loading it.
        const long count = 3_000_000;
        const int chunk = 100_000;
        var path = Path.Combine(root, "train.bin");
        using (var writer = new TokenShardWriter(path, vocab))
        {
            var buffer = new int[chunk];
            for (long start = 0; start < count; start += chunk)
            {
                for (var i = 0; i < chunk; i++) buffer[i] = Id(start + i, vocab);
                writer.Append(buffer);
            }
            writer.Complete();
        }
        Assert.Equal(TokenShard.HeaderBytes + count * bytesPerToken, new FileInfo(path).Length);
        Assert.Empty(Directory.GetFiles(root, "*.part"));

        using var shard = TokenShard.Open(path);
        Assert.Equal((count, vocab, bytesPerToken), (shard.Count, shard.VocabSize, shard.BytesPerToken));
        var random = new Random(5);
        var window = new int[257];
        for (var trial = 0; trial < 200; trial++)
        {
            var start = random.NextInt64(count - window.Length);
            shard.Read(start, window);
            for (var i = 0; i < window.Length; i++) Assert.Equal(Id(start + i, vocab), window[i]);
        }
        shard.Read(count - 1, window.AsSpan(0, 1));
        Assert.Equal(Id(count - 1, vocab), window[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => shard.Read(count - 1, window.AsSpan(0, 2)));
    }

    [Theory]
    [InlineData(65_536, 2)]     // ids 0..65,535 all fit in 16 bits
    [InlineData(65_537, 4)]     // id 65,536 does not
    public void BytesPerToken_IsTwo_ExactlyWhenEveryIdFitsIn16Bits(int vocab, int bytesPerToken)
    {
        var path = Path.Combine(root, $"edge{vocab}.bin");
        TokenShard.Write(path, [0, 1, vocab - 2, vocab - 1], vocab);
        using var shard = TokenShard.Open(path);
        Assert.Equal(bytesPerToken, shard.BytesPerToken);
        Assert.Equal(TokenShard.HeaderBytes + 4 * bytesPerToken, new FileInfo(path).Length);
        var back = new int[4];
        shard.Read(0, back);
        Assert.Equal([0, 1, vocab - 2, vocab - 1], back);
    }

    [Fact]
    public void Batches_FromAShard_EqualBatchesFromTheSameArray()
    {
        var tokens = Enumerable.Range(0, 20_000).Select(i => Id(i, 65)).ToArray();
        var path = Path.Combine(root, "chars.bin");
        TokenShard.Write(path, tokens, 65);
        using var shard = TokenShard.Open(path);

        foreach (var order in new[] { BatchOrder.RandomWindows, BatchOrder.Sequential })
        {
            var fromArray = new TokenBatches(tokens, 8, 32, order, seed: 3);
            var fromShard = new TokenBatches(shard, 8, 32, order, seed: 3);
            for (var step = 0; step < 5; step++)
            {
                var (x1, y1) = fromArray.Batch(step);
                var (x2, y2) = fromShard.Batch(step);
                Assert.Equal(x1.ToInt32Array(), x2.ToInt32Array());
                Assert.Equal(y1.ToInt32Array(), y2.ToInt32Array());
            }
        }
    }

    [Fact]
    public void AbandonedWriter_LeavesNothing_AndBadIdsAreRefused()
    {
        var path = Path.Combine(root, "never.bin");
        using (var writer = new TokenShardWriter(path, 10))
        {
            writer.Append([1, 2, 3]);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append([4, 10]));
            Assert.Contains("token 4 is 10", e.Message);
        }
        Assert.Empty(Directory.GetFiles(root));
    }

    [Fact]
    public void TruncatedOrForeignFiles_AreRefusedWithTheReason()
    {
        var path = Path.Combine(root, "cut.bin");
        TokenShard.Write(path, [1, 2, 3, 4], 10);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^2]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => TokenShard.Open(path)).Message);

        File.WriteAllBytes(path, new byte[64]);
        Assert.Contains("not a token shard", Assert.Throws<InvalidDataException>(() => TokenShard.Open(path)).Message);
    }
}
