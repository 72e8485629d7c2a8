namespace LlmCourse.Tensors.Tests.Ops;

using LlmCourse.Tensors.Tests.Core;

/// <summary>Each unary function against a double-precision reference written from its definition.</summary>
public sealed class ElementwiseTests
{
    static readonly float[] Inputs = [-6f, -3.5f, -1f, -0.3f, -1e-4f, 0f, 1e-4f, 0.3f, 1f, 2.5f, 6f, 30f];

    /// <summary>erf by its Taylor series (|x| &lt; 3) or continued fraction, in double: an independent reference.</summary>
    static double Erf(double x)
    {
        if (Math.Abs(x) > 5) return Math.Sign(x);
        double sum = 0, term = x;
        for (var n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    public static TheoryData<string> Names() => ["exp", "tanh", "sigmoid", "relu", "gelu", "gelu_tanh", "logsigmoid", "softplus", "silu", "abs", "square", "neg", "sin", "cos"];

    static (Func<Tensor, Tensor> Op, Func<double, double> Reference) Case(string name) => name switch
    {
        "exp" => (t => t.Exp(), Math.Exp),
        "tanh" => (t => t.Tanh(), Math.Tanh),
        "sigmoid" => (t => t.Sigmoid(), x => 1 / (1 + Math.Exp(-x))),
        "relu" => (t => t.Relu(), x => Math.Max(x, 0)),
        "gelu" => (t => t.Gelu(), x => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)))),
        "gelu_tanh" => (t => t.Gelu(GeluApproximation.Tanh), x => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))),
        "logsigmoid" => (t => t.LogSigmoid(), x => -Math.Log(1 + Math.Exp(-x))),
        "softplus" => (t => t.Softplus(), x => Math.Log(1 + Math.Exp(x))),
        "silu" => (t => t.Silu(), x => x / (1 + Math.Exp(-x))),
        "abs" => (t => t.Abs(), Math.Abs),
        "square" => (t => t.Square(), x => x * x),
        "neg" => (t => -t, x => -x),
        "sin" => (t => t.Sin(), Math.Sin),
        "cos" => (t => t.Cos(), Math.Cos),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardMatchesTheDefinition(string name)
    {
        var (op, reference) = Case(name);
        var y = op(Tensor.FromArray(Inputs)).ToArray();
        for (var i = 0; i < Inputs.Length; i++)
        {
            var expected = reference(Inputs[i]);
            // Relative 2e-6 (a few float ulps) with an absolute floor of 1e-7.
            Assert.True(Math.Abs(y[i] - expected) <= 2e-6 * Math.Abs(expected) + 1e-7,
                $"{name}({Inputs[i]}) = {y[i]}, expected {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void BackwardMatchesFiniteDifferences(string name)
    {
        // Every op, relu and abs included: the points stay 0.15 or more from their kink at 0, so the
        // central differences (eps 1e-3) see a straight line there; the kinks themselves are tested exactly below.
        var (op, _) = Case(name);
        var x = new float[] { -2.2f, -0.7f, 0.15f, 0.9f, 1.7f };
        Check.Gradient(t => op(t).Sum(), x, [x.Length], tolerance: 1e-2f, eps: 1e-3f);
    }

    [Fact]
    public void ReluAndAbsGradientsAtTheirKinks()
    {
        var x = Tensor.FromArray([-1f, 0f, 2f]).WithGrad();
        x.Relu().Sum().Backward();
        Assert.Equal(new float[] { 0, 0, 1 }, x.Grad!.ToArray());
        var y = Tensor.FromArray([-1f, 0f, 2f]).WithGrad();
        y.Abs().Sum().Backward();
        Assert.Equal(new float[] { -1, 0, 1 }, y.Grad!.ToArray());
    }

    [Fact]
    public void LogSigmoidAndSoftplusDoNotOverflow()
    {
        var x = Tensor.FromArray([-200f, 200f]);
        Assert.Equal(new float[] { -200f, 0f }, x.LogSigmoid().ToArray());
        Assert.Equal(new float[] { 0f, 200f }, x.Softplus().ToArray());
    }

    [Fact]
    public void PowClampSqrtRsqrtLog()
    {
        var x = Tensor.FromArray([0.25f, 1f, 4f]);
        Assert.Equal(new float[] { 0.0625f, 1f, 16f }, x.Pow(2f).ToArray());
        Assert.Equal(new float[] { 0.5f, 1f, 2f }, x.Sqrt().ToArray());
        Assert.Equal(new float[] { 2f, 1f, 0.5f }, x.Rsqrt().ToArray());
        Assert.Equal(new float[] { 0.5f, 1f, 2f }, x.Pow(Tensor.Full([3], 0.5f)).ToArray());
        Assert.Equal(new float[] { 0.5f, 1f, 3f }, x.Clamp(0.5f, 3f).ToArray());
        Assert.Equal(new float[] { 0.25f, 1f, 2f }, x.Clamp(max: 2f).ToArray());
        Check.Close([MathF.Log(0.25f), 0f, MathF.Log(4f)], x.Log());
        Assert.True(float.IsNaN(Tensor.FromArray([float.NaN]).Clamp(0f, 1f).Item()));
    }

    [Fact]
    public void ClampPassesGradientOnlyInside()
    {
        var x = Tensor.FromArray([-2f, 0.5f, 3f]).WithGrad();
        x.Clamp(-1f, 1f).Sum().Backward();
        Assert.Equal(new float[] { 0, 1, 0 }, x.Grad!.ToArray());
    }

    [Fact]
    public void MaximumSplitsTheGradientOnTies()
    {
        var a = Tensor.FromArray([1f, 2f, 3f]).WithGrad();
        var b = Tensor.FromArray([3f, 2f, 1f]).WithGrad();
        Tensor.Maximum(a, b).Sum().Backward();
        Assert.Equal(new float[] { 0, 0.5f, 1 }, a.Grad!.ToArray());
        Assert.Equal(new float[] { 1, 0.5f, 0 }, b.Grad!.ToArray());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void LargeTensorsTakeTheThreadedPathAndStayAccurate(string name)
    {
        // 300k elements: split into chunks over threads, each chunk into L1-sized blocks.
        var (op, reference) = Case(name);
        var values = Check.Values(300_000, 5, 3f);
        var big = op(Tensor.FromArray(values)).ToArray();
        for (var i = 0; i < values.Length; i += 997)
        {
            var expected = reference(values[i]);
            Assert.True(Math.Abs(big[i] - expected) <= 4e-6 * Math.Abs(expected) + 1e-7, $"{name}({values[i]}) = {big[i]}, expected {expected}");
        }
    }
}

/// <summary>The one-pass GELU operators against the pass-per-step reference kept beside them. Tolerance: 1e-5
/// relative, since both round exp of large negative arguments differently in the far tail.</summary>
public sealed class GeluKernelTests
{
    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 13)]
    [InlineData(false, 2048)]
    [InlineData(true, 7)]
    [InlineData(true, 37)]
    [InlineData(true, 2048)]
    public void FusedMatchesTheReference(bool tanh, int n)
    {
        var x = LlmCourse.Tensors.Tests.Core.Check.Values(n, 3, 3f);
        x[0] = -9f;   // deep in the tail, where 1 + tanh would cancel
        var gy = LlmCourse.Tensors.Tests.Core.Check.Values(n, 4);
        var fused = new float[n];
        var reference = new float[n];
        if (tanh) new LlmCourse.Tensors.Backends.Cpu.GeluTanh().Forward(x, fused);
        else new LlmCourse.Tensors.Backends.Cpu.Gelu().Forward(x, fused);
        LlmCourse.Tensors.Backends.Cpu.GeluReference.Forward(tanh, x, reference);
        for (var i = 0; i < n; i++) Assert.True(Math.Abs(fused[i] - reference[i]) <= 1e-5f * Math.Abs(reference[i]) + 1e-30f, $"forward [{i}] x={x[i]}: {fused[i]} vs {reference[i]}");
        var y = (float[])fused.Clone();   // the forward output: exact GELU's backward reads Phi(x) = y / x from it
        if (tanh) new LlmCourse.Tensors.Backends.Cpu.GeluTanh().Backward(x, y, gy, fused);
        else new LlmCourse.Tensors.Backends.Cpu.Gelu().Backward(x, y, gy, fused);
        LlmCourse.Tensors.Backends.Cpu.GeluReference.Backward(tanh, x, gy, reference);
        for (var i = 0; i < n; i++) Assert.True(Math.Abs(fused[i] - reference[i]) <= 1e-5f * Math.Abs(reference[i]) + 1e-7f, $"backward [{i}] x={x[i]}: {fused[i]} vs {reference[i]}");
    }
}
