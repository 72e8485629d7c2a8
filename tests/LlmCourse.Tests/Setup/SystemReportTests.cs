using System.Security.Cryptography;
using System.Xml.Linq;
using LlmCourse.Setup;
using LlmCourse.Text;

namespace LlmCourse.Tests.Setup;

/// <summary>The doctor's report: what it finds about datasets is true, and it renders both ways.</summary>
public sealed class SystemReportTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("llmcourse-doctor-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Datasets_VerifiedMismatchedOrMissing_AreToldApart()
    {
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        var cache = Directory.CreateDirectory(Path.Combine(root, "cache")).FullName;
        var shakespeare = DatasetCatalog.Get("tinyshakespeare");
        var ranks = DatasetCatalog.Get("r50k_base");
        var shared = Environment.GetEnvironmentVariable(DatasetStore.DataVariable);
        Assert.SkipWhen(string.IsNullOrEmpty(shared) || !File.Exists(Path.Combine(shared, shakespeare.File)), "LLMCOURSE_DATA is not set");
        File.Copy(Path.Combine(shared!, shakespeare.File), Path.Combine(cache, shakespeare.File));
        File.WriteAllText(Path.Combine(data, ranks.File), "not the ranks");

        var report = SystemReport.Collect(new DatasetStore(data, cache));

        var byName = report.Datasets.ToDictionary(d => d.Name);
        Assert.Equal(DatasetState.Verified, byName["tinyshakespeare"].State);
        Assert.Equal(Path.Combine(cache, shakespeare.File), byName["tinyshakespeare"].Path);
        Assert.Equal(DatasetState.Mismatch, byName["r50k_base"].State);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData("not the ranks"u8))[..12], byName["r50k_base"].Detail);
        Assert.Equal(DatasetCatalog.All.Count, report.Datasets.Count);
    }

    [Fact]
    public void Missing_SaysWhereItWillComeFrom()
    {
        var report = SystemReport.Collect(new DatasetStore(null, Path.Combine(root, "empty")));

        Assert.All(report.Datasets, d => Assert.Equal(DatasetState.Missing, d.State));
        Assert.Contains(DatasetCatalog.Get("tinyshakespeare").Url, report.Datasets[0].Detail);
        Assert.Contains("LLMCOURSE_DATA", report.ToString());
    }

    [Fact]
    public void Machine_FactsMatchTheRuntime_AndRenderAsTextAndHtml()
    {
        var report = SystemReport.Collect(new DatasetStore(null, Path.Combine(root, "empty")));

        Assert.Equal(Environment.ProcessorCount, report.Threads);
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx2.IsSupported, report.CpuFeatures.Single(f => f.Name == "AVX2").Supported);
        Assert.Equal(4, report.Cuda.Count);
        Assert.Equal("driver", report.Cuda[0].Name);
        Assert.Contains(".NET", report.DotNet);
        Assert.Contains("threads", report.ToString());
        var html = XElement.Parse(report.ToHtml());
        Assert.Equal(report.Rows().Count, html.Descendants("tr").Count(r => r.Elements("td").Any()));
    }
}
