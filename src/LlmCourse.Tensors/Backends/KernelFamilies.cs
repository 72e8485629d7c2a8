namespace LlmCourse.Tensors.Backends;

/// <summary>
/// The families an <see cref="OpProfiler"/> report groups kernels into, by the backend method's
/// name ("Unary.Gelu" is the method Unary with its op): what a step's time is usually split into.
/// </summary>
internal static class KernelFamilies
{
    public const string MatMul = "matmul";
    public const string Attention = "attention";
    public const string Elementwise = "element-wise";
    public const string Norms = "norms";
    public const string SoftmaxAndLoss = "softmax & loss";
    public const string Reductions = "reductions";
    public const string Indexing = "indexing";
    public const string Optimizer = "optimizer";
    public const string Memory = "memory";

    public static string Of(string kernel) => (kernel.IndexOf('.') is var dot and >= 0 ? kernel[..dot] : kernel) switch
    {
        "MatMul" => MatMul,
        "Attention" or "AttentionBackward" => Attention,
        "Unary" or "UnaryBackward" or "Binary" or "BinaryScalar" or "Compare" or "Where" or "ScaleAdd" or "Dropout" or "Fill"
            or "Copy" or "Generate" or "RoundTo" or "MatMulOperand" or "ScaleInPlace" => Elementwise,
        "LayerNorm" or "LayerNormBackward" => Norms,
        "Softmax" or "SoftmaxBackward" or "CrossEntropy" or "CrossEntropyBackward" => SoftmaxAndLoss,
        "Reduce" or "CumSum" or "TopK" or "SumOfSquares" or "FindNonFinite" or "ClipToGlobalNorm" => Reductions,
        "CheckIndices" or "IndexSelect" or "IndexAdd" or "Gather" or "ScatterAdd" => Indexing,
        "AdamStep" => Optimizer,
        "Allocate" or "ReadElement" or "Upload" or "Download" => Memory,
        _ => "other",
    };
}
