using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// Element-wise launchers: every operand may be any strided or broadcast (stride-0) view; the host merges
/// dims (<see cref="CudaLayout.Of"/>) and each thread walks its elements with the merged shape and strides.
/// Inputs are read as their storage holds them (<see cref="AddInput"/>): an autocast product's result held in
/// 16 bits costs these kernels 2 bytes an element, as PyTorch's bf16 tensors do.
/// </summary>
internal sealed partial class CudaBackend
{
    public override void Unary(UnaryOp op, Tensor x, Tensor y, float alpha, float beta) => Unary(op, x, y, alpha, beta, Output(y, DType.Float32));

    /// <summary>A fresh y (its storage's only view) is held in 16 bits and written so; any other y is rounded in a pass.</summary>
    public override void UnaryRounded(UnaryOp op, Tensor x, Tensor y, float alpha, float beta, DType precision)
    {
        if (!CanHold(y)) base.UnaryRounded(op, x, y, alpha, beta, precision);
        else Unary(op, x, y, alpha, beta, Output(y, precision));
    }

    public override void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, float alpha, float beta) =>
        UnaryBackward(op, x, y, gy, gx, alpha, beta, Output(gx, DType.Float32));

    public override void UnaryBackwardRounded(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, float alpha, float beta, DType precision)
    {
        if (!CanHold(gx)) base.UnaryBackwardRounded(op, x, y, gy, gx, alpha, beta, precision);
        else UnaryBackward(op, x, y, gy, gx, alpha, beta, Output(gx, precision));
    }

    void Unary(UnaryOp op, Tensor x, Tensor y, float alpha, float beta, (ulong Base, int Type) output)
    {
        var args = new KernelArgs();
        args.Add(CudaLayout.Of(y.shape, y, x));
        args.Add((int)op);
        args.Add(output.Base);
        args.Add(output.Type);
        AddInput(ref args, x);
        args.Add(alpha);
        args.Add(beta);
        args.Add(y.Count);
        Dev.LaunchElementwise("elementwise.cu", "unary_forward", y.Count, ref args);
    }

    void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gy, Tensor gx, float alpha, float beta, (ulong Base, int Type) output)
    {
        var args = new KernelArgs();
        args.Add(CudaLayout.Of(gx.shape, gx, x, gy, y));
        args.Add((int)op);
        args.Add(output.Base);
        args.Add(output.Type);
        AddInput(ref args, x);
        AddInput(ref args, gy);
        AddInput(ref args, y);
        args.Add(alpha);
        args.Add(beta);
        args.Add(gx.Count);
        Dev.LaunchElementwise("elementwise.cu", "unary_backward", gx.Count, ref args);
    }

    public override void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        var args = new KernelArgs();
        args.Add(CudaLayout.Of(y.shape, y, a, b));
        args.Add((int)op);
        args.Add(Base(y));
        AddInput(ref args, a);
        AddInput(ref args, b);
        args.Add(y.Count);
        Dev.LaunchElementwise("elementwise.cu", "binary", y.Count, ref args);
    }

    public override void BinaryScalar(BinaryOp op, Tensor a, float b, bool scalarFirst, Tensor y)
    {
        var args = new KernelArgs();
        args.Add(CudaLayout.Of(y.shape, y, a));
        args.Add((int)op);
        args.Add(Base(y));
        AddInput(ref args, a);
        args.Add(b);
        args.Add(scalarFirst ? 1 : 0);
        args.Add(y.Count);
        Dev.LaunchElementwise("elementwise.cu", "binary_scalar", y.Count, ref args);
    }

    public override void Compare(CompareOp op, Tensor a, Tensor b, Tensor y)
    {
        var args = new KernelArgs();
        args.Add(CudaLayout.Of(y.shape, y, a, b));
        args.Add((int)op);
        args.Add(Base(y));
        args.Add(Base(a));
        args.Add((int)a.DType);
        args.Add(Base(b));
        args.Add((int)b.DType);
        args.Add(y.Count);
        Dev.LaunchElementwise("elementwise.cu", "compare", y.Count, ref args);
    }

    public override void Where(Tensor condition, Tensor a, Tensor b, Tensor y)
    {
        var args = new KernelArgs();
        args.Add(CudaLayout.Of(y.shape, y, condition, a, b));
        args.Add(Base(y));
        args.Add(Base(condition));
        args.Add(Base(a));
        args.Add(Base(b));
        args.Add(y.Count);
        Dev.LaunchElementwise("elementwise.cu", "where_select", y.Count, ref args);
    }

    public override void Dropout(Tensor x, float keep, float scale, ulong seed, Tensor y)
    {
        var args = new KernelArgs();
        args.Add(P(y));
        AddRowsInput(ref args, x);
        args.Add(keep);
        args.Add(scale);
        args.Add(seed);
        args.Add(y.Count);
        Dev.LaunchElementwise("elementwise.cu", "dropout", y.Count, ref args);
    }

    public override void ScaleAdd(Tensor y, float alpha, Tensor x, float beta)
    {
        var args = new KernelArgs();
        args.Add(CudaLayout.Of(y.shape, y, x));
        args.Add(Base(y));
        args.Add(alpha);
        AddInput(ref args, x);
        args.Add(beta);
        args.Add(y.Count);
        Dev.LaunchElementwise("elementwise.cu", "scale_add", y.Count, ref args);
    }
}
