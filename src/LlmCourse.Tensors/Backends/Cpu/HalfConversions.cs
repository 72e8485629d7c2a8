namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>bfloat16 and IEEE half bit patterns to and from float32, rounding to nearest even like PyTorch.</summary>
internal static class HalfConversions
{
    public static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40); // keep it a (quiet) NaN
        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float FromBFloat16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static ushort ToFloat16(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    public static float FromFloat16(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    public static float ToFloat(ushort bits, DType dtype) => dtype == DType.BFloat16 ? FromBFloat16(bits) : FromFloat16(bits);

    public static ushort FromFloat(float value, DType dtype) => dtype == DType.BFloat16 ? ToBFloat16(value) : ToFloat16(value);
}
