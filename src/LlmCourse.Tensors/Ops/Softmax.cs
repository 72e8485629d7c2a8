namespace LlmCourse.Tensors;

/// <summary>
/// Softmax and log-softmax along a dim: fused, numerically stable kernels (max subtracted per row).
/// The composite forms they are tested against are in <see cref="Composite"/>. A dim other than the
/// last is moved to the end for the kernel and the result is handed back as a view.
/// </summary>
public sealed partial class Tensor
{
    public Tensor Softmax(int dim) => SoftmaxFamily(dim, log: false);

    public Tensor LogSoftmax(int dim) => SoftmaxFamily(dim, log: true);

    Tensor SoftmaxFamily(int dim, bool log)
    {
        var name = log ? "LogSoftmax" : "Softmax";
        var x = FloatInput(name);
        var d = Shapes.Dim(dim, Rank, name);
        var rows = x.MoveDimToEnd(d).ContiguousData();
        var y = rows.NewEmpty(rows.shape);
        Backend.Softmax(rows, y, log);
        var result = y.MoveEndToDim(d, Rank);
        if (Autograd.DetectNonFinite) NonFinite.Check(name, "forward", result, x);
        if (Autograd.Needs(x)) result.SetGradFn(new SoftmaxBackward(name + "Backward", x, y, d, log));
        return result;
    }

    sealed class SoftmaxBackward(string name, Tensor x, Tensor y, int dim, bool log) : Node(name, x)
    {
        Tensor? y = y;
        readonly int rank = x.Rank;

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var output = Saved(y);
            var gyRows = gy.MoveDimToEnd(dim).ContiguousData();
            var gxRows = gyRows.NewEmpty(gyRows.shape);
            gy.Backend.SoftmaxBackward(output, gyRows, gxRows, log);
            gx[0] = gxRows.MoveEndToDim(dim, rank);
        }

        protected override void ReleaseSaved() => y = null;
    }

    /// <summary>View with <paramref name="dim"/> swapped to the end (a 0-d tensor becomes [1]). Not recorded.</summary>
    internal Tensor MoveDimToEnd(int dim)
    {
        if (Rank == 0) return AsView([1], [1], offset);
        if (dim == Rank - 1) return this;
        var newShape = (int[])shape.Clone();
        var newStrides = (int[])strides.Clone();
        (newShape[dim], newShape[^1]) = (newShape[^1], newShape[dim]);
        (newStrides[dim], newStrides[^1]) = (newStrides[^1], newStrides[dim]);
        return AsView(newShape, newStrides, offset);
    }

    /// <summary>Inverse of <see cref="MoveDimToEnd"/> for a tensor that originally had <paramref name="rank"/> dims.</summary>
    internal Tensor MoveEndToDim(int dim, int rank) => rank == 0 ? AsView([], [], offset) : MoveDimToEnd(dim);
}
