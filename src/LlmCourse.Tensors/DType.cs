namespace LlmCourse.Tensors;

/// <summary>
/// Element types. All maths runs in <see cref="Float32"/>; <see cref="Int32"/> holds indices (token ids,
/// targets, argmax/top-k results); <see cref="BFloat16"/> and <see cref="Float16"/> are storage formats
/// (checkpoints, mixed precision) converted to and from Float32 with <see cref="Tensor.To(DType)"/>.
/// </summary>
public enum DType
{
    Float32,
    Int32,
    BFloat16,
    Float16,
}

internal static class DTypeInfo
{
    public static int SizeOf(this DType dtype) => dtype switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.BFloat16 or DType.Float16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };

    /// <summary>The name PyTorch prints (<c>torch.float32</c> → <c>float32</c>).</summary>
    public static string TorchName(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Int32 => "int32",
        DType.BFloat16 => "bfloat16",
        DType.Float16 => "float16",
        _ => dtype.ToString(),
    };
}
