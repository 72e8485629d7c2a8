namespace LlmCourse.Tensors;

/// <summary>
/// The check behind <see cref="Autograd.DetectNonFinite"/>: an op is blamed when its output holds a
/// NaN none of its inputs held, or an infinity none of its inputs held (NaN or infinite).
/// </summary>
internal static class NonFinite
{
    public static void Check(string op, string pass, Tensor output, Tensor? a = null, Tensor? b = null, Tensor? c = null, bool allowInfinity = false)
    {
        if (output.DType != DType.Float32) return;
        var (nan, inf) = output.Backend.FindNonFinite(output);
        if (!nan && (!inf || allowInfinity)) return;
        bool inNan = false, inInf = false;
        foreach (var input in (ReadOnlySpan<Tensor?>)[a, b, c])
        {
            if (input is null || input.DType != DType.Float32) continue;
            var (n, i) = input.Backend.FindNonFinite(input);
            inNan |= n;
            inInf |= i;
        }
        if (nan && !inNan)
            throw new NonFiniteException(op, pass, Shapes(output, a, b, c), "NaN");
        if (inf && !inInf && !inNan && !allowInfinity)
            throw new NonFiniteException(op, pass, Shapes(output, a, b, c), "an infinity");
    }

    static string Shapes(Tensor output, Tensor? a, Tensor? b, Tensor? c)
    {
        var inputs = string.Join(", ", new[] { a, b, c }.Where(t => t is not null).Select(t => Tensors.Shapes.Format(t!.shape)));
        return $"inputs ({inputs}) -> output {Tensors.Shapes.Format(output.shape)}";
    }
}
