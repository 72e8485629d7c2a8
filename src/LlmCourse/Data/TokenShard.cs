using LlmCourse.Tensors.Formatting;
using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using LlmCourse.Training;

namespace LlmCourse.Data;

/// <summary>
/// A tokenized corpus on disk, read through a memory map (nanoGPT's <c>train.bin</c>, with a header):
/// the text is tokenized once, and training then draws random windows straight from the map, so the
/// operating system pages in only what is read and a corpus larger than memory works.
/// <para>Layout (little-endian): 32-byte header — magic <c>"LLMTOKS\0"</c>, version (u32, 1), bytes per
/// token (u32: 2 when every id fits in 16 bits, as GPT-2's 50,257 do, else 4), token count (u64),
/// vocabulary size (u32), reserved (u32) — then the ids.</para>
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed unsafe class TokenShard : ITokenSource, IDisposable
{
    public static ReadOnlySpan<byte> Magic => "LLMTOKS\0"u8;
    public const int Version = 1;
    public const int HeaderBytes = 32;

    readonly MemoryMappedFile map;
    readonly MemoryMappedViewAccessor view;
    readonly byte* data;

    TokenShard(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* data, int bytesPerToken, long count, int vocabSize)
    {
        Path = path;
        this.map = map;
        this.view = view;
        this.data = data;
        BytesPerToken = bytesPerToken;
        Count = count;
        VocabSize = vocabSize;
    }

    public string Path { get; }
    public long Count { get; }
    public int VocabSize { get; }
    public int BytesPerToken { get; }

    /// <summary>Maps a shard written by <see cref="TokenShardWriter"/>; checks its header against the file's length.</summary>
    public static TokenShard Open(string path)
    {
        var length = new FileInfo(path).Length;
        if (length < HeaderBytes) throw new InvalidDataException($"TokenShard: {path} has {length} bytes, fewer than the {HeaderBytes}-byte header.");
        Span<byte> header = stackalloc byte[HeaderBytes];
        using (var file = File.OpenRead(path)) file.ReadExactly(header);
        if (!header[..8].SequenceEqual(Magic))
            throw new InvalidDataException($"TokenShard: {path} is not a token shard (its first bytes are not \"LLMTOKS\").");
        var version = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (version != Version) throw new InvalidDataException($"TokenShard: {path} has format version {version}; this library reads version {Version}.");
        var bytesPerToken = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        var count = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        var vocabSize = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
        if (bytesPerToken is not (2 or 4)) throw new InvalidDataException($"TokenShard: {path} says {bytesPerToken} bytes per token; expected 2 or 4.");
        if (HeaderBytes + count * bytesPerToken != length)
            throw new InvalidDataException($"TokenShard: {path} should hold {count:N0} tokens of {bytesPerToken} bytes ({HeaderBytes + count * bytesPerToken:N0} bytes) but has {length:N0} bytes: truncated or corrupt.");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        return new TokenShard(path, map, view, pointer + view.PointerOffset + HeaderBytes, bytesPerToken, count, vocabSize);
    }

    /// <summary>Writes <paramref name="tokens"/> as a shard in one go (atomically).</summary>
    public static void Write(string path, ReadOnlySpan<int> tokens, int vocabSize)
    {
        using var writer = new TokenShardWriter(path, vocabSize);
        writer.Append(tokens);
        writer.Complete();
    }

    public void Read(long start, Span<int> destination)
    {
        if (start < 0 || start + destination.Length > Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"TokenShard.Read: tokens {start:N0}..{start + destination.Length:N0} are outside the {Count:N0} tokens of {Path}.");
        if (BytesPerToken == 4)
        {
            new ReadOnlySpan<int>(data + start * 4, destination.Length).CopyTo(destination);
            return;
        }
        var source = new ReadOnlySpan<ushort>(data + start * 2, destination.Length);
        for (var i = 0; i < source.Length; i++) destination[i] = source[i];
    }

    public void Dispose()
    {
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
    }

    public override string ToString() => $"{System.IO.Path.GetFileName(Path)}: {Count:N0} tokens of {BytesPerToken} bytes (vocabulary {VocabSize:N0})";
}

/// <summary>
/// Writes a <see cref="TokenShard"/> in pieces, so a corpus can be tokenized chunk by chunk without
/// holding all its ids: to a temporary file that becomes the shard only at <see cref="Complete"/>
/// (a rename), so a crash never leaves a half shard under the real name.
/// </summary>
public sealed class TokenShardWriter : IDisposable
{
    readonly string path, temp;
    readonly FileStream file;
    readonly int bytesPerToken;
    bool completed;

    public TokenShardWriter(string path, int vocabSize)
    {
        if (vocabSize < 1) throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "TokenShardWriter: the vocabulary size must be positive.");
        this.path = path;
        VocabSize = vocabSize;
        bytesPerToken = vocabSize <= 1 << 16 ? 2 : 4;
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.part";
        file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        file.Write(new byte[TokenShard.HeaderBytes]);   // the real header goes in once the count is known
    }

    public int VocabSize { get; }
    public long Count { get; private set; }

    public void Append(ReadOnlySpan<int> tokens)
    {
        ObjectDisposedException.ThrowIf(completed, this);
        var bytes = new byte[tokens.Length * bytesPerToken];
        for (var i = 0; i < tokens.Length; i++)
        {
            var id = tokens[i];
            if ((uint)id >= (uint)VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), id, $"TokenShardWriter: token {Count + i:N0} is {id}, outside the vocabulary 0..{VocabSize - 1}.");
            if (bytesPerToken == 2) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)id);
            else BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), id);
        }
        file.Write(bytes);
        Count += tokens.Length;
    }

    /// <summary>Writes the header and puts the shard in place.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(completed, this);
        Span<byte> header = stackalloc byte[TokenShard.HeaderBytes];
        header.Clear();
        TokenShard.Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], TokenShard.Version);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], bytesPerToken);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], Count);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], VocabSize);
        file.Position = 0;
        file.Write(header);
        file.Flush(flushToDisk: true);
        file.Dispose();
        File.Move(temp, path, overwrite: true);
        completed = true;
    }

    public void Dispose()
    {
        if (completed) return;
        file.Dispose();
        if (File.Exists(temp)) File.Delete(temp);
        completed = true;
    }
}
