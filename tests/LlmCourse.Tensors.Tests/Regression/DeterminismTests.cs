using LlmCourse.Tensors.Backends;
using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Tests.Core;
using LlmCourse.Tensors.Tests.Parity;

namespace LlmCourse.Tensors.Tests.Regression;

/// <summary>
/// "Multi-threaded kernels must give the same bits every run" (ENGINE_API.md, Generator): every large
/// (multi-threaded) parity case, forward and backward, gives bit-identical outputs and gradients run
/// after run and with 1, 3 or the default number of threads. The thread count is process-wide, so these
/// run in the collection that runs alone (a test running beside them would change threads under them).
/// </summary>
[Collection(GlobalStateCollection.Name)]
public sealed class DeterminismTests
{
    public static TheoryData<string> Names => LargeParityTests.Names;

    [Theory]
    [MemberData(nameof(Names))]
    public void SameBitsRunAfterRunAndAcrossThreadCounts(string name)
    {
        var reference = Run(name, threads: null);
        Assert.Equal(reference, Run(name, threads: 1));
        Assert.Equal(reference, Run(name, threads: 3));
    }

    static List<float[]> Run(string name, int? threads)
    {
        var saved = CpuParallel.Threads;
        if (threads is { } n) CpuParallel.Threads = n;
        try
        {
            var run = LargeParityTests.Cases[name].Run;
            var inputs = LargeParityTests.Inputs(name.Split(':')[0]);
            var outputs = run(inputs);
            var results = outputs.Select(o => o.DType == DType.Int32 ? o.ToInt32Array().Select(v => (float)v).ToArray() : o.ToArray()).ToList();
            outputs.Select((o, k) => (o * LargeParityTests.Hashed(o.Shape, 500 + k, -1, 2)).Sum()).Aggregate((a, b) => a + b).Backward();
            results.AddRange(inputs.Where(x => x.DType == DType.Float32).Select(x => x.Grad!.ToArray()));
            return results;
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
    }
}
