namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>Autocast's rounding of float32 values to bf16/fp16 precision, kept as float32.</summary>
internal sealed partial class CpuBackend
{
    public override void RoundTo(DType precision, Tensor x, Tensor y)
    {
        var xs = Floats(x);
        var ys = Floats(y);
        if (precision == DType.BFloat16)
            for (var i = 0; i < xs.Length; i++) ys[i] = HalfConversions.FromBFloat16(HalfConversions.ToBFloat16(xs[i]));
        else if (precision == DType.Float16)
            for (var i = 0; i < xs.Length; i++) ys[i] = (float)(Half)xs[i];
        else if (!xs.Overlaps(ys)) xs.CopyTo(ys);
    }
}
