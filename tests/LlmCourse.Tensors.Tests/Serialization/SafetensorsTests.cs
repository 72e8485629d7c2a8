using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace LlmCourse.Tensors.Tests.Serialization;

public sealed class SafetensorsTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("llmcourse-safetensors-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void RoundTripsEveryDTypeAndMetadata()
    {
        var path = Path.Combine(folder, "t.safetensors");
        var tensors = new Dictionary<string, Tensor>
        {
            ["b.f32"] = Tensor.FromArray([1.5f, -2f, 3.25f, 0f, 1e-8f, 7f], 2, 3),
            ["a.i32"] = Tensor.FromArray([1, -2, int.MaxValue]),
            ["c.bf16"] = Tensor.FromArray([1f, -0.5f]).To(DType.BFloat16),
            ["d.f16"] = Tensor.FromArray([0.25f, 100f]).To(DType.Float16),
            ["e.scalar"] = Tensor.Scalar(4f),
            ["f.view"] = Tensor.Arange(0f, 6f).Reshape(2, 3).T,   // non-contiguous: written row-major
        };
        Safetensors.Save(path, tensors, new Dictionary<string, string> { ["step"] = "42" });
        var (loaded, metadata) = Safetensors.LoadWithMetadata(path);
        Assert.Equal("42", metadata["step"]);
        Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.DType, loaded[name].DType);
            Assert.Equal(t.Shape, loaded[name].Shape);
            Assert.Equal(t.ToArray(), loaded[name].ToArray());
        }
    }

    [Fact]
    public void TheFileFollowsTheFormat()
    {
        var path = Path.Combine(folder, "f.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["z"] = Tensor.FromArray([1f, 2f]), ["a"] = Tensor.FromArray([7]) });
        var bytes = File.ReadAllBytes(path);
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + n) % 8);
        var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, n).TrimEnd(' ')).RootElement;
        Assert.Equal("I32", header.GetProperty("a").GetProperty("dtype").GetString());
        Assert.Equal(new long[] { 0, 4 }, header.GetProperty("a").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(new long[] { 4, 12 }, header.GetProperty("z").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(8 + n + 12, bytes.Length);
        Assert.Equal(7, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8 + n)));
        Assert.Equal(2f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + n + 8)));
    }

    [Fact]
    public void SavingIsAtomicAndLeavesNoTemporaryFiles()
    {
        var path = Path.Combine(folder, "m.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["x"] = Tensor.Ones(3) });
        // A failing save (a reserved name) must leave the old file intact and no temporary file behind.
        var reserved = Assert.Throws<ArgumentException>(() => Safetensors.Save(path, new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Ones(1) }));
        Assert.Contains("'__metadata__' is reserved and cannot name a tensor", reserved.Message);
        Assert.Equal(new float[] { 1, 1, 1 }, Safetensors.Load(path)["x"].ToArray());
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["x"] = Tensor.Zeros(2) });
        Assert.Equal(new float[] { 0, 0 }, Safetensors.Load(path)["x"].ToArray());
        Assert.Equal(new[] { "m.safetensors" }, Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void CorruptFilesGiveClearErrors()
    {
        var path = Path.Combine(folder, "bad.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("too short", Assert.Throws<InvalidDataException>(() => Safetensors.Load(path)).Message);
        var header = Encoding.UTF8.GetBytes("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}");
        var bytes = new byte[8 + header.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path));
        Assert.Contains("'x'", e.Message);
        Assert.Contains(path, e.Message);
    }

    /// <summary>A file of an 8-byte header length, that header (as given) and <paramref name="data"/> bytes.</summary>
    string Raw(string header, int data, ulong? declaredLength = null)
    {
        var path = Path.Combine(folder, "fault.safetensors");
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    void Refused(string path, params string[] parts)
    {
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path));
        Assert.StartsWith($"Safetensors: {path}: ", e.Message);
        foreach (var part in parts) Assert.Contains(part, e.Message);
    }

    [Fact]
    public void Fault_ABadJsonHeader_IsNamed() =>
        Refused(Raw("{\"x\": {\"dtype\": \"F32\", ", 0), "the header is not valid JSON", "is it a safetensors file?");

    [Fact]
    public void Fault_AnUnknownDtype_IsNamedWithTheSupportedOnes() =>
        Refused(Raw("{\"x\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2),
            "tensor 'x' has dtype F8_E4M3", "supported: F32, F16, BF16, I32, I64, F64");

    [Fact]
    public void Fault_OverlappingOffsets_AreRefused_NamingBothTensors() =>
        Refused(Raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
            "tensors 'a' [0, 8) and 'b' [4, 12) overlap", "the file is corrupt");

    [Fact]
    public void Fault_AHeaderLengthPastTheEndOfTheFile_IsNamed() =>
        Refused(Raw("{}", 0, declaredLength: 1_000), "header length 1000 does not fit in a 10-byte file", "truncated");

    [Theory]
    [InlineData("{\"x\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "tensor 'x' is not")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", "tensor 'x' is not")]
    [InlineData("{\"__metadata__\":{\"k\":3}}", "'__metadata__' must be an object of strings")]
    public void Fault_AMalformedEntry_NamesTheTensor(string header, string named) => Refused(Raw(header, 8), named);

    [Fact]
    public void Fault_ATruncatedFile_IsNamed()
    {
        var path = Path.Combine(folder, "t.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(64) });
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^100]);
        Refused(path, "tensor 'w' has data offsets [0, 256] outside the");
    }

    [Fact]
    public void ModuleSaveAndLoad()
    {
        var path = Path.Combine(folder, "model.safetensors");
        var a = new NN.Linear(3, 2, generator: new Generator(1));
        var b = new NN.Linear(3, 2, generator: new Generator(2));
        a.Save(path);
        b.Load(path);
        Assert.Equal(a.Weight.ToArray(), b.Weight.ToArray());
        Assert.Equal(a.Bias!.ToArray(), b.Bias!.ToArray());
    }

    [Fact]
    public void PythonReadsOurFile()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) Assert.Skip("no /usr/bin/python3");
        var path = Path.Combine(folder, "py.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2), ["i"] = Tensor.FromArray([5, 6]) },
            new Dictionary<string, string> { ["k"] = "v" });
        // An independent reader written from the spec (json + struct), as safetensors' own loader does it.
        var script = """
            import json, struct, sys
            data = open(sys.argv[1], 'rb').read()
            n = struct.unpack('<Q', data[:8])[0]
            header = json.loads(data[8:8 + n])
            assert header['__metadata__'] == {'k': 'v'}, header
            body = data[8 + n:]
            w = header['w']; s, e = w['data_offsets']
            assert w['dtype'] == 'F32' and w['shape'] == [2, 2]
            print(list(struct.unpack('<4f', body[s:e])), list(struct.unpack('<2i', body[slice(*header['i']['data_offsets'])])))
            """;
        var info = new System.Diagnostics.ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script.Replace("\n            ", "\n"));
        info.ArgumentList.Add(path);
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.Equal("[1.0, 2.0, 3.0, 4.0] [5, 6]", output.Trim());
    }
}
