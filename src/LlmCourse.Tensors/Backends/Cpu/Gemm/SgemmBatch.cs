using System.Runtime.CompilerServices;

namespace LlmCourse.Tensors.Backends.Cpu.Gemm;

/// <summary>
/// A batch of products each too small to be worth splitting between threads (attention's [B*H]
/// products of [T,T] x [T,D]): the threads share out whole products instead. Each product runs
/// the single-threaded path it would run alone, so the bits are the same either way.
/// </summary>
internal static unsafe class SgemmBatch
{
    [ThreadStatic] static BatchJob? job;

    public static void Run(in GemmArgs first, SgemmPath path, int batch, long strideA, long strideB, long strideC, int threads)
    {
        var work = job ??= new BatchJob();
        work.First = first;
        work.Path = path;
        work.StrideA = strideA;
        work.StrideB = strideB;
        work.StrideC = strideC;
        KernelThreads.Run(work, batch, threads);
    }

    sealed class BatchJob : IParallelTasks
    {
        public GemmArgs First;
        public SgemmPath Path;
        public long StrideA, StrideB, StrideC;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int task)
        {
            var item = First;
            item.A += task * StrideA;
            item.B += task * StrideB;
            item.C += task * StrideC;
            Sgemm.Run(item, Path, threads: 1);
        }
    }
}
