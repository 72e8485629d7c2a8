using System.Globalization;
using System.Text;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tensors;

/// <summary>PyTorch-style printing: <c>tensor([[1.0000, 2.5000], ...], requires_grad=True)</c>, summarised past 1000 elements.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed partial class Tensor
{
    const int SummariseAbove = 1000;
    const int EdgeItems = 3;

    public override string ToString()
    {
        if (Storage.IsReleased) return $"tensor(<released>, shape={Shapes.Format(shape)})";
        var values = ToArray();
        var summarise = values.Length > SummariseAbove;
        var format = ChooseFormat(values, DType == DType.Int32);
        var width = 0;
        foreach (var v in values) width = Math.Max(width, format(v).Length);
        var sb = new StringBuilder("tensor(");
        if (Rank == 0) sb.Append(format(values.Length > 0 ? values[0] : 0f));
        else AppendDim(sb, values, 0, 0, format, width, summarise, indent: 7);
        if (DType != DType.Float32) sb.Append(", dtype=").Append(DType.TorchName());
        if (Device != Device.Cpu) sb.Append(", device='").Append(Device).Append('\'');
        if (GradFn is not null) sb.Append(", grad_fn=<").Append(GradFn.Name).Append('>');
        else if (requiresGrad) sb.Append(", requires_grad=True");
        return sb.Append(')').ToString();
    }

    void AppendDim(StringBuilder sb, float[] values, int dim, long start, Func<float, string> format, int width, bool summarise, int indent)
    {
        var size = shape[dim];
        long block = 1;
        for (var d = dim + 1; d < Rank; d++) block *= shape[d];
        sb.Append('[');
        for (var i = 0; i < size; i++)
        {
            if (summarise && size > 2 * EdgeItems && i == EdgeItems)
            {
                sb.Append(dim == Rank - 1 ? "..., " : "...,\n" + new string(' ', indent + 1));
                i = size - EdgeItems;
            }
            if (dim == Rank - 1) sb.Append(format(values[start + i]).PadLeft(width));
            else AppendDim(sb, values, dim + 1, start + i * block, format, width, summarise, indent + 1);
            if (i < size - 1)
                sb.Append(dim == Rank - 1 ? ", " : "," + new string('\n', Rank - dim - 1) + new string(' ', indent + 1));
        }
        sb.Append(']');
    }

    /// <summary>PyTorch's choice: integers as "1.", fixed 4 decimals, or scientific when the range is wide.</summary>
    static Func<float, string> ChooseFormat(float[] values, bool integerType)
    {
        var inv = CultureInfo.InvariantCulture;
        if (integerType) return v => ((int)v).ToString(inv);
        var finite = values.Where(float.IsFinite).ToArray();
        static string Special(float v) => float.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
        if (finite.Length == 0) return v => float.IsFinite(v) ? v.ToString("0", inv) + "." : Special(v);
        if (finite.All(v => v == MathF.Round(v)))
        {
            var big = finite.Max(MathF.Abs) >= 1e8f;
            return v => !float.IsFinite(v) ? Special(v) : big ? v.ToString("0.0000e+00", inv) : v.ToString("0", inv) + ".";
        }
        var nonzero = finite.Where(v => v != 0f).Select(MathF.Abs).ToArray();
        var max = nonzero.Length > 0 ? nonzero.Max() : 0f;
        var min = nonzero.Length > 0 ? nonzero.Min() : 0f;
        var scientific = max > 1e8f || min < 1e-4f || max / min > 1000f;
        return v => !float.IsFinite(v) ? Special(v) : scientific ? v.ToString("0.0000e+00", inv) : v.ToString("0.0000", inv);
    }
}
