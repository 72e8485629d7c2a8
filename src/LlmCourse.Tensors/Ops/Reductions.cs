using LlmCourse.Tensors.Backends;

namespace LlmCourse.Tensors;

/// <summary>
/// Reductions along dims, PyTorch style: <c>keepDim</c> keeps reduced dims as size 1. Sum is the
/// primitive (its gradient broadcasts back); mean, variance, log-sum-exp and norms are composites.
/// Max/min/top-k values are gathered at their indices, so their gradient is a scatter.
/// </summary>
public sealed partial class Tensor
{
    /// <summary>Sum of all elements (a 0-d tensor).</summary>
    public Tensor Sum()
    {
        var all = new int[Rank];
        for (var d = 0; d < all.Length; d++) all[d] = d;
        return Sum(all, false);
    }

    public Tensor Sum(int dim, bool keepDim = false) => Sum([dim], keepDim);

    public Tensor Sum(int[] dims, bool keepDim = false)
    {
        var x = FloatInput("Sum");
        var reduced = NormalizeDims(dims, "Sum");
        var y = x.ReduceKernel(ReduceOp.Sum, reduced, keepDim, null, "Sum");
        if (Autograd.Needs(x)) y.SetGradFn(new SumBackward(x, reduced));
        return y;
    }

    sealed class SumBackward(Tensor x, bool[] reduced) : Node("SumBackward", x)
    {
        readonly int[] inputShape = x.shape;

        public override void Backward(Tensor gy, Tensor?[] gx) =>
            gx[0] = gy.Reshape(KeepShape(inputShape, reduced)).ExpandTo(inputShape, Name);
    }

    /// <summary>Mean of all elements.</summary>
    public Tensor Mean() => Count == 0 ? Sum() * float.NaN : Sum() / Count;

    public Tensor Mean(int dim, bool keepDim = false) => Mean([dim], keepDim);

    public Tensor Mean(int[] dims, bool keepDim = false)
    {
        var reduced = NormalizeDims(dims, "Mean");
        long n = 1;
        for (var d = 0; d < Rank; d++)
            if (reduced[d]) n *= shape[d];
        return Sum(dims, keepDim) / n;
    }

    /// <summary>Variance along a dim; <paramref name="correction"/> 1 is the unbiased estimate (PyTorch's default).</summary>
    public Tensor Var(int dim, bool keepDim = false, int correction = 1)
    {
        var d = Shapes.Dim(dim, Rank, "Var");
        var centered = this - Mean(d, keepDim: true);
        return (centered * centered).Sum(d, keepDim) / Math.Max(0, shape[d] - correction);
    }

    public Tensor Std(int dim, bool keepDim = false, int correction = 1) => Var(dim, keepDim, correction).Sqrt();

    /// <summary>Largest element (a 0-d tensor); ties share the gradient equally, like PyTorch.</summary>
    public Tensor Max() => ExtremeAll(ReduceOp.Max, "Max");

    public Tensor Min() => ExtremeAll(ReduceOp.Min, "Min");

    Tensor ExtremeAll(ReduceOp op, string name)
    {
        if (Count == 0) throw new TensorShapeException($"{name}: cannot reduce an empty tensor of shape {Shapes.Format(shape)}");
        var x = FloatInput(name);
        var flat = x.ContiguousData();
        flat = flat.AsView([1, (int)Count], [(int)Count, 1], flat.offset);
        var y = flat.ReduceKernel(op, [false, true], false, null, name);
        y = y.AsView([], [], y.offset);
        if (Autograd.Needs(x)) y.SetGradFn(new ExtremeAllBackward(name + "Backward", x, y));
        return y;
    }

    sealed class ExtremeAllBackward(string name, Tensor x, Tensor y) : Node(name, x)
    {
        Tensor? x = x, y = y;

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var ties = Saved(x).Eq(Saved(y));
            gx[0] = ties * (gy / ties.Sum());
        }

        protected override void ReleaseSaved() => x = y = null;
    }

    /// <summary>Largest values along <paramref name="dim"/> and their (first) Int32 indices.</summary>
    public (Tensor Values, Tensor Indices) Max(int dim, bool keepDim = false) => Extreme(ReduceOp.Max, dim, keepDim, "Max");

    public (Tensor Values, Tensor Indices) Min(int dim, bool keepDim = false) => Extreme(ReduceOp.Min, dim, keepDim, "Min");

    public Tensor ArgMax(int dim, bool keepDim = false) => Extreme(ReduceOp.Max, dim, keepDim, "ArgMax", valuesNeeded: false).Indices;

    public Tensor ArgMin(int dim, bool keepDim = false) => Extreme(ReduceOp.Min, dim, keepDim, "ArgMin", valuesNeeded: false).Indices;

    /// <summary>Flat index of the largest element (a 0-d Int32 tensor).</summary>
    public Tensor ArgMax() => Reshape(-1).ArgMax(0);

    (Tensor Values, Tensor Indices) Extreme(ReduceOp op, int dim, bool keepDim, string name, bool valuesNeeded = true)
    {
        var x = FloatInput(name);
        var d = Shapes.Dim(dim, Rank, name);
        if (Rank > 0 && shape[d] == 0) throw new TensorShapeException($"{name}: cannot reduce dim {d} of size 0 (shape {Shapes.Format(shape)})");
        var reduced = new bool[Rank];
        if (Rank > 0) reduced[d] = true;
        var indices = Allocate(KeepShape(shape, reduced), DType.Int32, Device);
        var values = x.ReduceKernel(op, reduced, true, indices, name);
        if (valuesNeeded && Autograd.Needs(x)) values = x.Gather(d, indices); // same numbers, with a scatter gradient
        if (!keepDim && Rank > 0)
        {
            values = values.Squeeze(d);
            indices = indices.Squeeze(d);
        }
        return (values, indices);
    }

    /// <summary>The k largest (or smallest) values along a dim, sorted, and their Int32 indices.</summary>
    public (Tensor Values, Tensor Indices) TopK(int k, int dim = -1, bool largest = true)
    {
        var x = FloatInput("TopK");
        var d = Shapes.Dim(dim, Rank, "TopK");
        var size = Rank == 0 ? 1 : shape[d];
        if (k < 0 || k > size) throw new TensorShapeException($"TopK: k ({k}) out of range for dim {d} of size {size} (shape {Shapes.Format(shape)})");
        var last = Rank == 0 ? x.Reshape(1) : x.Transpose(d, -1);
        var rows = last.ContiguousData();
        var outShape = (int[])rows.shape.Clone();
        outShape[^1] = k;
        var values = Allocate(outShape, DType.Float32, Device);
        var indices = Allocate(outShape, DType.Int32, Device);
        Backend.TopK(rows, k, largest, values, indices);
        var idx = Rank == 0 ? indices.Reshape() : indices.Transpose(d, -1).ContiguousData();
        var vals = Rank == 0 ? values.Reshape() : values.Transpose(d, -1).ContiguousData();
        if (Autograd.Needs(x)) vals = x.Gather(d, idx);
        return (vals, idx);
    }

    /// <summary>Running sum along a dim (accumulated in double, like PyTorch's CPU kernel).</summary>
    public Tensor CumSum(int dim)
    {
        var x = FloatInput("CumSum").ContiguousData();
        var d = Shapes.Dim(dim, Rank, "CumSum");
        var (outer, size, inner) = Split3(x.shape, d, d);
        var y = x.NewEmpty(shape);
        Backend.CumSum(x, outer, size, inner, y);
        if (Autograd.DetectNonFinite) NonFinite.Check("CumSum", "forward", y, x);
        if (Autograd.Needs(this)) y.SetGradFn(new CumSumBackward(this, d));
        return y;
    }

    sealed class CumSumBackward(Tensor x, int dim) : Node("CumSumBackward", x)
    {
        // The gradient of a prefix sum is a suffix sum: total - prefix + own.
        public override void Backward(Tensor gy, Tensor?[] gx) => gx[0] = gy.Sum(dim, keepDim: true) - gy.CumSum(dim) + gy;
    }

    /// <summary>log(sum(exp(x))) along a dim, stable for large values (max subtracted first).</summary>
    public Tensor LogSumExp(int dim, bool keepDim = false)
    {
        var d = Shapes.Dim(dim, Rank, "LogSumExp");
        var m = Max(d, keepDim: true).Values.Detach();
        m = m.MaskedFill(m.Abs().Eq(float.PositiveInfinity), 0f); // all -inf rows give -inf, not NaN
        var result = (this - m).Exp().Sum(d, keepDim: true).Log() + m;
        return keepDim ? result : result.Squeeze(d);
    }

    /// <summary>The L2 norm of all elements.</summary>
    public Tensor Norm() => Square().Sum().Sqrt();

    // ---- helpers -------------------------------------------------------------------------------

    bool[] NormalizeDims(int[] dims, string op)
    {
        var reduced = new bool[Rank];
        foreach (var dim in dims)
        {
            var d = Shapes.Dim(dim, Rank, op);
            if (Rank == 0) continue;
            if (reduced[d]) throw new TensorShapeException($"{op}: dim {d} appears multiple times in the list of dims");
            reduced[d] = true;
        }
        return reduced;
    }

    /// <summary>The sizes of the dims not reduced.</summary>
    static int[] Kept(int[] shape, bool[] reduced)
    {
        var count = 0;
        foreach (var r in reduced) if (!r) count++;
        var result = new int[count];
        for (int d = 0, i = 0; d < shape.Length; d++)
            if (!reduced[d]) result[i++] = shape[d];
        return result;
    }

    static int[] KeepShape(int[] shape, bool[] reduced)
    {
        var result = (int[])shape.Clone();
        for (var d = 0; d < result.Length; d++)
            if (reduced[d]) result[d] = 1;
        return result;
    }

    /// <summary>[outer, size, inner] element counts around dims first..last.</summary>
    static (int Outer, int Size, int Inner) Split3(int[] shape, int first, int last)
    {
        int outer = 1, size = 1, inner = 1;
        for (var d = 0; d < shape.Length; d++)
        {
            if (d < first) outer *= shape[d];
            else if (d <= last) size *= shape[d];
            else inner *= shape[d];
        }
        return (outer, size, inner);
    }

    /// <summary>Runs a reduction kernel over the reduced dims (moved together if they are not adjacent). Not recorded.</summary>
    Tensor ReduceKernel(ReduceOp op, bool[] reduced, bool keepDim, Tensor? indices, string name)
    {
        var keepShape = KeepShape(shape, reduced);
        var outShape = keepDim ? keepShape : Kept(shape, reduced);
        int first = Array.IndexOf(reduced, true), last = Array.LastIndexOf(reduced, true);
        Tensor source;
        if (first < 0)
        {
            // Nothing reduced (0-d input, or an empty dim list): a copy.
            var copy = NewEmpty(outShape);
            Backend.Copy(Reshape(outShape), copy);
            indices?.FillInPlace(0);
            return copy;
        }
        var adjacent = true;
        for (var d = first; d <= last; d++) adjacent &= reduced[d];
        if (adjacent) source = ContiguousData();
        else
        {
            // Move the reduced dims to the end, keeping the others in order.
            var order = Enumerable.Range(0, Rank).Where(d => !reduced[d]).Concat(Enumerable.Range(0, Rank).Where(d => reduced[d])).ToArray();
            source = AsView(order.Select(d => shape[d]).ToArray(), order.Select(d => strides[d]).ToArray(), offset).ContiguousData();
            var kept = Rank - reduced.Count(r => r);
            first = kept;
            last = Rank - 1;
            if (indices is not null) throw new InvalidOperationException($"{name}: indices need a single reduced dim");
        }
        var (outer, size, inner) = Split3(source.shape, first, last);
        var y = NewEmpty(outShape);
        if (Count == 0 && op == ReduceOp.Sum) y.FillInPlace(0f);
        else Backend.Reduce(op, source, outer, size, inner, y, indices);
        if (Autograd.DetectNonFinite) NonFinite.Check(name, "forward", y, this);
        return y;
    }
}
