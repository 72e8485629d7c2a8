using LlmCourse.Tensors.Backends.Cpu;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using LlmCourse.Tensors.Backends;

namespace LlmCourse.Tensors;

/// <summary>
/// The safetensors format (Hugging Face): 8-byte little-endian header length N, N bytes of JSON
/// (<c>{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, "__metadata__": {...}}</c>,
/// padded with spaces to a multiple of 8), then the raw little-endian data, tensors back to back.
/// Files written here are readable by Python's <c>safetensors</c> and the reverse.
/// </summary>
public static class Safetensors
{
    const long MaxHeaderBytes = 100L << 20;

    /// <summary>
    /// Writes <paramref name="tensors"/> (keys sorted) to <paramref name="path"/> atomically: a temporary
    /// file in the same folder is written, flushed and renamed over the target, so a crash never leaves a half file.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        long position = 0;
        foreach (var name in names)
        {
            if (name == "__metadata__") throw new ArgumentException("Safetensors.Save: '__metadata__' is reserved and cannot name a tensor");
            var t = tensors[name];
            var bytes = t.Count * t.DType.SizeOf();
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = Code(t.DType),
                ["shape"] = t.shape,
                ["data_offsets"] = new[] { position, position + bytes },
            };
            position += bytes;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        var padded = (json.Length + 7) / 8 * 8;

        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
                stream.Write(length);
                stream.Write(json);
                for (var i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
                foreach (var name in names) WriteData(stream, tensors[name]);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { }
            throw;
        }
    }

    static void WriteData(Stream stream, Tensor t)
    {
        var data = t.Device == Device.Cpu ? t.ContiguousData() : t.To(Device.Cpu).ContiguousData();
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Safetensors: big-endian hosts are not supported");
        stream.Write(((CpuStorage)data.Storage).Bytes.Slice((int)(data.offset * data.DType.SizeOf()), (int)(data.Count * data.DType.SizeOf())));
    }

    public static Dictionary<string, Tensor> Load(string path) => LoadWithMetadata(path).Tensors;

    /// <summary>Reads every tensor (on the CPU) and the <c>__metadata__</c> strings of a safetensors file.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) LoadWithMetadata(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Length < 8) throw Bad(path, $"the file is {stream.Length} bytes, too short for a header");
        stream.ReadExactly(lengthBytes);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)MaxHeaderBytes || (long)headerLength > stream.Length - 8)
            throw Bad(path, $"header length {headerLength} does not fit in a {stream.Length}-byte file (a truncated copy, or not a safetensors file)");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        var dataStart = 8 + (long)headerLength;
        var dataLength = stream.Length - dataStart;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException e)
        {
            throw Bad(path, $"the header is not valid JSON ({e.Message}); is it a safetensors file?");
        }
        var tensors = new Dictionary<string, Tensor>();
        var metadata = new Dictionary<string, string>();
        var entries = new List<(string Name, Stored Stored, int[] Shape, long Begin, long End)>();
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, "the header is not a JSON object");
            foreach (var property in document.RootElement.EnumerateObject())
            {
                string code;
                int[] shape;
                long[] offsets;
                // A field missing or of the wrong JSON kind: JsonElement throws KeyNotFound/InvalidOperation/
                // Format exceptions that name neither the file nor the tensor.
                try
                {
                    if (property.Name == "__metadata__")
                    {
                        foreach (var m in property.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                        continue;
                    }
                    var info = property.Value;
                    code = info.GetProperty("dtype").GetString() ?? "";
                    shape = info.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                    offsets = info.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                }
                catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    throw Bad(path, property.Name == "__metadata__"
                        ? "'__metadata__' must be an object of strings"
                        : $"tensor '{property.Name}' is not {{\"dtype\": string, \"shape\": [ints], \"data_offsets\": [begin, end]}} ({e.Message})");
                }
                if (shape.Any(d => d < 0)) throw Bad(path, $"tensor '{property.Name}' has a negative size in shape [{string.Join(", ", shape)}]");
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
                    throw Bad(path, $"tensor '{property.Name}' has data offsets [{string.Join(", ", offsets)}] outside the {dataLength}-byte data section");
                var (stored, size) = ParseCode(code, path, property.Name);
                if (Shapes.Count(shape) * size != offsets[1] - offsets[0])
                    throw Bad(path, $"tensor '{property.Name}' of shape {Shapes.Format(shape)} and dtype {code} needs {Shapes.Count(shape) * size} bytes, its offsets give {offsets[1] - offsets[0]}");
                entries.Add((property.Name, stored, shape, offsets[0], offsets[1]));
            }
        }
        // Two tensors sharing bytes would load as aliases of one another's data: the file is corrupt
        // (or written by a buggy writer), so it is refused rather than read.
        var ordered = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        for (var i = 1; i < ordered.Count; i++)
            if (ordered[i].Begin < ordered[i - 1].End && ordered[i].End > ordered[i].Begin)
                throw Bad(path, $"tensors '{ordered[i - 1].Name}' [{ordered[i - 1].Begin}, {ordered[i - 1].End}) and '{ordered[i].Name}' " +
                                $"[{ordered[i].Begin}, {ordered[i].End}) overlap in the data section; the file is corrupt: write it again");
        foreach (var (name, stored, shape, begin, end) in ordered)
        {
            var bytes = new byte[end - begin];
            stream.Position = dataStart + begin;
            stream.ReadExactly(bytes);
            tensors[name] = Decode(bytes, stored, shape, path, name);
        }
        return (tensors, metadata);
    }

    /// <summary>Stored dtypes we read. I64 and F64 are narrowed (with a range check) to Int32 and Float32.</summary>
    enum Stored { F32, F16, BF16, I32, I64, F64 }

    static (Stored Stored, int Size) ParseCode(string code, string path, string name) => code switch
    {
        "F32" => (Stored.F32, 4),
        "F16" => (Stored.F16, 2),
        "BF16" => (Stored.BF16, 2),
        "I32" => (Stored.I32, 4),
        "I64" => (Stored.I64, 8),
        "F64" => (Stored.F64, 8),
        _ => throw Bad(path, $"tensor '{name}' has dtype {code}; supported: F32, F16, BF16, I32, I64, F64"),
    };

    static Tensor Decode(byte[] bytes, Stored stored, int[] shape, string path, string name)
    {
        switch (stored)
        {
            case Stored.F32:
            case Stored.I32:
            case Stored.F16:
            case Stored.BF16:
            {
                var dtype = stored switch { Stored.F32 => DType.Float32, Stored.I32 => DType.Int32, Stored.F16 => DType.Float16, _ => DType.BFloat16 };
                var t = Tensor.Allocate(shape, dtype, Device.Cpu);
                bytes.CopyTo(((CpuStorage)t.Storage).Bytes);
                return t;
            }
            case Stored.I64:
            {
                var values = new int[bytes.Length / 8];
                for (var i = 0; i < values.Length; i++)
                {
                    var v = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(i * 8));
                    if (v < int.MinValue || v > int.MaxValue) throw Bad(path, $"tensor '{name}' holds {v}, which does not fit in Int32");
                    values[i] = (int)v;
                }
                return Tensor.FromArray(values, shape, Device.Cpu);
            }
            default:
            {
                var values = new float[bytes.Length / 8];
                for (var i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8));
                return Tensor.FromArray(values, shape, Device.Cpu);
            }
        }
    }

    static string Code(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Int32 => "I32",
        DType.BFloat16 => "BF16",
        DType.Float16 => "F16",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Safetensors: unsupported dtype"),
    };

    static InvalidDataException Bad(string path, string why) => new($"Safetensors: {path}: {why}");
}
