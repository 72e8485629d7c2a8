namespace LlmCourse.Tensors.Tests.Parity;

/// <summary>
/// How far the engine may be from a reference: an element passes when |ours - ref| &lt;= Atol + Rtol * |ref|
/// (NaN matches only NaN, an infinity only the same infinity). The references are float64 PyTorch
/// results rounded once to float32 (see tests/parity/make_engine_fixtures.py), so every difference is the
/// engine's own float32 error. One float32 rounding is 2^-24 ≈ 6e-8 relative; the presets below allow a
/// known number of them, with headroom, and stay orders of magnitude below what a wrong formula, a
/// wrong broadcast reduction or a dropped term produces (1e-3 and up).
/// </summary>
public readonly record struct Tolerance(double Atol, double Rtol)
{
    /// <summary>Layout and selection (views, cat, gather, masked_fill, max values, indices): a copy, so bit-exact.</summary>
    public static readonly Tolerance Exact = new(0, 0);

    /// <summary>
    /// One op per element, or a short chain (gelu, log-sigmoid, pow with a tensor exponent): a few ulps of a
    /// value of order 1, so 1e-6 (about 16 roundings); the absolute part covers results near zero that
    /// come from cancellation, whose error is set by the size of the operands, not of the result.
    /// </summary>
    public static readonly Tolerance Elementwise = new(1e-6, 1e-6);

    /// <summary>
    /// Reductions, small matrix products and the fused families (softmax, log-softmax, layer norm,
    /// cross-entropy, attention): sums of up to ~60 order-1 terms, each adding up to half an ulp, so at
    /// worst ~4e-6; 1e-5 with headroom for a different summation order than PyTorch's.
    /// </summary>
    public static readonly Tolerance Reduction = new(1e-5, 1e-5);

    /// <summary>
    /// The 33x257 @ 257x65 product (and the 200-term ones of the large, multi-threaded cases): 257-term dot products of N(0,1) values (results ~16). The typical
    /// float32 error is ~sqrt(K)·eps·|result| ≈ 1.5e-5 (PyTorch's own float32 GEMM is 2.3e-5 off), the
    /// worst-case bound K·eps·Σ|a·b| ≈ 3e-3; 1e-4 absolute sits between.
    /// </summary>
    public static readonly Tolerance LargeMatMul = new(1e-4, 1e-5);

    /// <summary>
    /// Layer norm of values with mean 100 and spread 0.1: the mean itself is only known to half an ulp of
    /// 100 (3.8e-6), which is 3.8e-5 of the spread, and the output and gradient scale by 1/spread = 10.
    /// PyTorch's own float32 kernel is off by 8.6e-5 (output) and 7.5e-4 (gradient). A one-pass
    /// E[x²]-E[x]² variance fails this by orders of magnitude.
    /// </summary>
    public static readonly Tolerance LayerNormOffsetForward = new(3e-4, 1e-5);
    public static readonly Tolerance LayerNormOffsetBackward = new(3e-3, 1e-5);

    public override string ToString() => $"atol {Format(Atol)} + rtol {Format(Rtol)}·|ref|";

    static string Format(double v) => v == 0 ? "0" : v.ToString("0.#e+0", System.Globalization.CultureInfo.InvariantCulture);
}
