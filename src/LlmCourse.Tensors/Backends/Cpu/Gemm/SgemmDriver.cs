using System.Runtime.CompilerServices;

namespace LlmCourse.Tensors.Backends.Cpu.Gemm;

/// <summary>One product's arguments as raw pointers (the spans are pinned by the caller for the call).</summary>
internal unsafe struct GemmArgs
{
    public bool TransA, TransB;
    public int M, N, K;
    public float Alpha, Beta;
    public float* A, B, C;
    public nint Lda, Ldb, Ldc;
    /// <summary>Pack A even where the kernel could read it in place (tests compare the two).</summary>
    public bool PackAlways;
}

/// <summary>
/// The blocked algorithm (GotoBLAS/BLIS), compiled once per micro-kernel:
/// <code>
/// for jc in n, NC columns at a time:             packed B block (k x NC) shared by all threads
///   phase 1: pack op(B)[:, jc]                    tasks: one KC x NR panel each
///   phase 2: for each block of rows and columns   tasks: (rows ib, columns jb) of C
///     for pc in k, KC at a time:
///       pack op(A)[ib, pc] (this thread's buffer)    an MC x KC block, kept in L2
///       for jr in jb, NR at a time:                   the KC x NR panel of B, kept in L1
///         for ir in ib, MR at a time: micro-kernel    an MR x NR tile of C in registers
/// </code>
/// k is never split between threads: every element of C is summed in the same order (KC blocks,
/// each one FMA chain over p) whichever thread computes it, so the result does not depend on the
/// thread count or on which thread takes which task.
/// <para>
/// A weight gradient dW = dY^T X of a layer with at most <see cref="InPlaceARows"/> outputs takes
/// another way (<see cref="RunInPlaceA"/>): its transposed A needs no packing and its B is packed
/// by the micro-kernel while it computes, so the product makes no packing pass at all.
/// </para>
/// </summary>
internal static unsafe class SgemmDriver<TKernel> where TKernel : ISgemmKernel
{
    /// <summary>The packed B block holds at most this many floats (16 MiB: half the L3 here).</summary>
    const int PackedBBudget = 4 << 20;

    /// <summary>All of op(A) packed once and shared, when columns are split, holds at most this many floats (16 MiB).</summary>
    const long SharedABudget = 4 << 20;

    /// <summary>B blocks smaller than this are packed by the calling thread alone.</summary>
    const long ParallelPackFloats = 1 << 15;

    /// <summary>
    /// The most rows of op(A) read in place: KC x 512 floats of A (1 MiB with KC = 512) stay in L2
    /// while every B panel of a KC block streams past them.
    /// </summary>
    const int InPlaceARows = 512;

    [ThreadStatic] static GemmJob? job;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in GemmArgs args, int threads)
    {
        if (ReadsAInPlace(args))
        {
            RunInPlaceA(args, threads);
            return;
        }
        var g = args;
        int nr = TKernel.NR, kc = TKernel.KC;
        var ncMax = Math.Max(nr, PackedBBudget / Math.Max(g.K, 1) / nr * nr);
        var work = job ??= new GemmJob();
        work.SharedA = null;
        var sharedAPacked = false;
        for (var jc = 0; jc < g.N; jc += ncMax)
        {
            var nc = Math.Min(ncMax, g.N - jc);
            var panels = (nc + nr - 1) / nr;
            work.Args = g;
            work.Jc = jc;
            work.Nc = nc;
            work.Panels = panels;
            work.PackedB = SgemmScratch.PackedB.Get((nint)g.K * panels * nr);

            // Packing a small B takes less time than handing half of it to another thread.
            work.Phase = GemmPhase.PackB;
            var kBlocks = (g.K + kc - 1) / kc;
            RunTasks(work, kBlocks * panels, (long)g.K * nc < ParallelPackFloats ? 1 : threads);

            ChooseBlocks(g.M, nc, threads, out work.RowsPerTask, out work.ColumnsPerTask);
            work.RowTasks = (g.M + work.RowsPerTask - 1) / work.RowsPerTask;
            var columnTasks = (nc + work.ColumnsPerTask - 1) / work.ColumnsPerTask;

            // Column tasks of one row block would each pack the same rows of A (a transposed A, as in
            // a weight gradient, packs slowly): pack all of op(A) once, shared, and keep it for the
            // next column block too (measured: dW of 384 x 1536 x 4096, TN, from 0.87x to 0.92x of OpenBLAS).
            if (columnTasks > 1 && !sharedAPacked && (long)RoundUp(g.M, TKernel.MR) * g.K <= SharedABudget)
            {
                work.SharedA = SgemmScratch.SharedA.Get((nint)kBlocks * RoundUp(g.M, TKernel.MR) * kc);
                work.Phase = GemmPhase.PackA;
                RunTasks(work, kBlocks * work.RowTasks, threads);
                sharedAPacked = true;
            }

            work.Phase = GemmPhase.Compute;
            RunTasks(work, work.RowTasks * columnTasks, threads);
        }
    }

    /// <summary>
    /// op(A) = A^T with A stored k x m: column p of a tile's rows is MR contiguous floats of stored row
    /// p, exactly what a packed panel holds, so the kernel reads them where they are. op(B) not
    /// transposed: the kernel copies a panel's rows as it loads them. (Measured on the course's
    /// weight gradients, 384 x 384 x 4096 and 384 x 1536 x 4096: packing took a fifth of the time.)
    /// </summary>
    internal static bool ReadsAInPlace(in GemmArgs g) =>
        TKernel.ReadsAInPlace && g.TransA && !g.TransB && !g.PackAlways && g.M >= TKernel.MR && g.M <= InPlaceARows;

    /// <summary>
    /// One task per thread: blocks of whole columns of C over all m rows when the NR panels share
    /// out evenly (each B panel is then packed once, by the task that uses it; measured 1-4% faster
    /// than two tasks per thread), otherwise blocks of rows over all columns (n = 65 has 3 panels,
    /// the last one a single column: each B panel is then packed by every task, a small cost next
    /// to one thread doing twice the work of the other).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RunInPlaceA(in GemmArgs g, int threads)
    {
        var work = job ??= new GemmJob();
        work.Args = g;
        work.Phase = GemmPhase.InPlaceA;
        var panels = (g.N + TKernel.NR - 1) / TKernel.NR;
        if (panels % threads == 0 || g.M < 2 * threads * TKernel.MR)
        {
            work.RowsPerTask = g.M;
            work.ColumnsPerTask = ColumnBlock(g.N, threads);
        }
        else
        {
            work.RowsPerTask = RoundUp((g.M + threads - 1) / threads, TKernel.MR);
            work.ColumnsPerTask = g.N;
        }
        work.RowTasks = (g.M + work.RowsPerTask - 1) / work.RowsPerTask;
        var columnTasks = (g.N + work.ColumnsPerTask - 1) / work.ColumnsPerTask;
        RunTasks(work, work.RowTasks * columnTasks, threads);
    }

    static void RunTasks(GemmJob work, int tasks, int threads)
    {
        if (threads <= 1)
            for (var t = 0; t < tasks; t++) work.Execute(t);
        else
            KernelThreads.Run(work, tasks, threads);
    }

    /// <summary>
    /// Splits C into tasks. Rows first: blocks as tall as L2 allows (MC rows of A packed per task, each
    /// row task streams all of packed B from L3 once per KC block, so taller blocks read B fewer times),
    /// and as many as a multiple of the thread count, so that the threads get equal shares (measured
    /// here at 1024^3: one 512-row block per thread beat 2 x 256 by 3-4% and 4 x 128 by 5%). Tasks are
    /// claimed dynamically, so a core slowed by another process takes fewer when there are several.
    /// Columns are split too when there are fewer than 2 row tasks per thread (a short, wide product;
    /// every column task packs the same rows of A again), and only columns when A is narrower than
    /// the B block and fits one block of rows (a small layer's weight gradient dW = dY^T X: each row
    /// task would stream all of B, each column task only re-packs the small A).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ChooseBlocks(int m, int nc, int threads, out int rows, out int columns)
    {
        int mr = TKernel.MR, nr = TKernel.NR, mc = TKernel.MC;
        columns = nc;
        if (threads <= 1)
        {
            rows = mc;
            return;
        }
        if (m < nc && m <= mc)
        {
            rows = RoundUp(m, mr);
            columns = ColumnBlock(nc, 2 * threads);
            return;
        }
        var blocksPerThread = (m + threads * mc - 1) / (threads * mc);
        var rowTasks = threads * blocksPerThread;
        rows = Math.Clamp(RoundUp((m + rowTasks - 1) / rowTasks, mr), mr, mc);
        rowTasks = (m + rows - 1) / rows;
        if (rowTasks < 2 * threads) columns = ColumnBlock(nc, (2 * threads + rowTasks - 1) / rowTasks);
    }

    /// <summary>Columns per task for about <paramref name="tasks"/> column tasks (whole NR panels).</summary>
    static int ColumnBlock(int nc, int tasks) => Math.Max(TKernel.NR, RoundUp((nc + tasks - 1) / tasks, TKernel.NR));

    static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    enum GemmPhase { PackB, PackA, Compute, InPlaceA }

    /// <summary>The tasks of one product; reused by its calling thread, so a call allocates nothing.</summary>
    sealed class GemmJob : IParallelTasks
    {
        public GemmArgs Args;
        public GemmPhase Phase;
        public int Jc, Nc, Panels;
        public float* PackedB;
        /// <summary>All of op(A), packed once by the PackA phase, or null (each task packs its own rows).</summary>
        public float* SharedA;
        public int RowsPerTask, ColumnsPerTask, RowTasks;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int task)
        {
            if (Phase == GemmPhase.PackB) PackBPanel(task);
            else if (Phase == GemmPhase.PackA) PackSharedA(task % RowTasks, task / RowTasks);
            else if (Phase == GemmPhase.InPlaceA) ComputeInPlaceA(task % RowTasks, task / RowTasks);
            else Compute(task % RowTasks, task / RowTasks);
        }

        /// <summary>
        /// One block of C with A read in place (<see cref="ISgemmKernel.RunInPlaceA"/>). Per KC block
        /// and NR panel, the first tile packs the B panel as it computes and the others read it
        /// packed; a last tile of fewer than MR rows reads A from a panel packed for it.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void ComputeInPlaceA(int rowTask, int columnTask)
        {
            int mr = TKernel.MR, nr = TKernel.NR, kcMax = TKernel.KC;
            var i0 = rowTask * RowsPerTask;
            var i1 = Math.Min(i0 + RowsPerTask, Args.M);
            var fullEnd = i0 + (i1 - i0) / mr * mr;   // rows [i0, fullEnd) in whole tiles, [fullEnd, i1) in an edge tile
            var j0 = columnTask * ColumnsPerTask;
            var j1 = Math.Min(j0 + ColumnsPerTask, Args.N);
            var scratch = SgemmScratch.PackedA.Get((nint)kcMax * (nr + mr));
            var bPanel = scratch;
            var edgeA = scratch + (nint)kcMax * nr;
            for (var pc = 0; pc < Args.K; pc += kcMax)
            {
                var kc = Math.Min(kcMax, Args.K - pc);
                var beta = pc == 0 ? Args.Beta : 1f;
                var aBlock = Args.A + (nint)pc * Args.Lda;   // op(A)[i, pc + p] = aBlock[p * lda + i]
                if (fullEnd < i1)
                    SgemmPacking.PackA<TKernel>(true, Args.A, Args.Lda, fullEnd, i1 - fullEnd, pc, kc, edgeA);
                for (var jr = j0; jr < j1; jr += nr)
                {
                    var columns = Math.Min(nr, j1 - jr);
                    var c = Args.C + jr;
                    var ir = i0;
                    if (columns == nr && fullEnd > i0)
                    {
                        TKernel.RunInPlaceA(kc, aBlock + ir, Args.Lda, Args.B + (nint)pc * Args.Ldb + jr, Args.Ldb, bPanel,
                            c + (nint)ir * Args.Ldc, Args.Ldc, nr, Args.Alpha, beta);
                        ir += mr;
                    }
                    else
                        // A right-edge panel is packed first (its padding must be zeros).
                        SgemmPacking.PackBPanel<TKernel>(false, Args.B, Args.Ldb, pc, kc, jr, columns, bPanel);
                    for (; ir < fullEnd; ir += mr)
                        TKernel.RunInPlaceA(kc, aBlock + ir, Args.Lda, bPanel, nr, null,
                            c + (nint)ir * Args.Ldc, Args.Ldc, columns, Args.Alpha, beta);
                    if (fullEnd < i1)
                        TKernel.Run(kc, edgeA, bPanel, c + (nint)fullEnd * Args.Ldc, Args.Ldc, i1 - fullEnd, columns, Args.Alpha, beta);
                }
            }
        }

        /// <summary>Packed B: for each KC block of k, <see cref="Panels"/> panels of kc x NR.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void PackBPanel(int task)
        {
            int nr = TKernel.NR, kcMax = TKernel.KC;
            var panel = task % Panels;
            var pc = task / Panels * kcMax;
            var kc = Math.Min(kcMax, Args.K - pc);
            var dst = PackedB + (nint)pc * Panels * nr + (nint)panel * kc * nr;
            var j = panel * nr;
            SgemmPacking.PackBPanel<TKernel>(Args.TransB, Args.B, Args.Ldb, pc, kc, Jc + j, Math.Min(nr, Nc - j), dst);
        }

        /// <summary>
        /// Shared packed A: for each KC block of k, every MR-row panel of op(A) (kc x MR each) in row
        /// order, so that rows [i0, ...) of block b start at <see cref="SharedABlock"/>(b) + i0 * kc.
        /// </summary>
        float* SharedABlock(int pc, int kc, int i0) =>
            SharedA + (nint)(pc / TKernel.KC) * RoundUp(Args.M, TKernel.MR) * TKernel.KC + (nint)i0 * kc;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void PackSharedA(int rowTask, int kBlock)
        {
            var i0 = rowTask * RowsPerTask;
            var i1 = Math.Min(i0 + RowsPerTask, Args.M);
            var pc = kBlock * TKernel.KC;
            var kc = Math.Min(TKernel.KC, Args.K - pc);
            SgemmPacking.PackA<TKernel>(Args.TransA, Args.A, Args.Lda, i0, i1 - i0, pc, kc, SharedABlock(pc, kc, i0));
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Compute(int rowTask, int columnTask)
        {
            int mr = TKernel.MR, nr = TKernel.NR, kcMax = TKernel.KC;
            var i0 = rowTask * RowsPerTask;
            var i1 = Math.Min(i0 + RowsPerTask, Args.M);
            var j0 = columnTask * ColumnsPerTask;
            var j1 = Math.Min(j0 + ColumnsPerTask, Nc);
            var ownA = SharedA is null ? SgemmScratch.PackedA.Get((nint)RoundUp(RowsPerTask, mr) * kcMax) : null;
            for (var pc = 0; pc < Args.K; pc += kcMax)
            {
                var kc = Math.Min(kcMax, Args.K - pc);
                var packedA = ownA;
                if (ownA is null) packedA = SharedABlock(pc, kc, i0);
                else SgemmPacking.PackA<TKernel>(Args.TransA, Args.A, Args.Lda, i0, i1 - i0, pc, kc, packedA);
                var beta = pc == 0 ? Args.Beta : 1f;
                var bBlock = PackedB + (nint)pc * Panels * nr;
                for (var jr = j0; jr < j1; jr += nr)
                {
                    var bPanel = bBlock + (nint)(jr / nr) * kc * nr;
                    var columns = Math.Min(nr, Nc - jr);
                    var cTile = Args.C + (nint)i0 * Args.Ldc + Jc + jr;
                    var aPanel = packedA;
                    for (var ir = i0; ir < i1; ir += mr, aPanel += (nint)kc * mr, cTile += mr * Args.Ldc)
                        TKernel.Run(kc, aPanel, bPanel, cTile, Args.Ldc, Math.Min(mr, i1 - ir), columns, Args.Alpha, beta);
                }
            }
        }
    }
}

/// <summary>Each thread's packing buffers, shared by every kernel and grown to the largest block seen.</summary>
internal static class SgemmScratch
{
    [ThreadStatic] static AlignedBuffer? packedA, packedB, sharedA;

    public static AlignedBuffer PackedA => packedA ??= new AlignedBuffer();

    /// <summary>All of op(A) when the product splits columns; owned by the calling thread, read by all its workers.</summary>
    public static AlignedBuffer SharedA => sharedA ??= new AlignedBuffer();

    /// <summary>The packed B block; owned by the thread that calls the product, read by all its workers.</summary>
    public static AlignedBuffer PackedB => packedB ??= new AlignedBuffer();
}
