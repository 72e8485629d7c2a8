using LlmCourse.Tensors.Backends;

namespace LlmCourse.Tensors.NN;

/// <summary>Which fan the Kaiming initialisations scale by.</summary>
public enum FanMode
{
    FanIn,
    FanOut,
}

/// <summary>
/// PyTorch's <c>torch.nn.init</c>: fills a tensor in place (not recorded) from a seeded generator and
/// returns it. Fans follow PyTorch: for a weight [out, in, k...], fan_in = in * k..., fan_out = out * k....
/// </summary>
public static class Init
{
    public static Tensor Normal(Tensor t, float mean = 0f, float std = 1f, Generator? generator = null) =>
        Write(t, Tensor.Random(t.shape, Distribution.Normal, mean, std, generator, t.Device));

    public static Tensor Uniform(Tensor t, float low = 0f, float high = 1f, Generator? generator = null) =>
        Write(t, Tensor.Random(t.shape, Distribution.Uniform, low, high, generator, t.Device));

    public static Tensor Constant(Tensor t, float value)
    {
        using (Autograd.NoGrad()) t.FillInPlace(value);
        return t;
    }

    public static Tensor Zeros(Tensor t) => Constant(t, 0f);

    public static Tensor Ones(Tensor t) => Constant(t, 1f);

    /// <summary>U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot).</summary>
    public static Tensor XavierUniform(Tensor t, float gain = 1f, Generator? generator = null)
    {
        var (fanIn, fanOut) = Fans(t, "XavierUniform");
        var bound = gain * MathF.Sqrt(6f / (fanIn + fanOut));
        return Uniform(t, -bound, bound, generator);
    }

    public static Tensor XavierNormal(Tensor t, float gain = 1f, Generator? generator = null)
    {
        var (fanIn, fanOut) = Fans(t, "XavierNormal");
        return Normal(t, 0f, gain * MathF.Sqrt(2f / (fanIn + fanOut)), generator);
    }

    /// <summary>U(-b, b) with b = gain * sqrt(3 / fan) (He); <c>a</c> is the leaky-ReLU slope (nn.Linear uses sqrt 5).</summary>
    public static Tensor KaimingUniform(Tensor t, float a = 0f, FanMode mode = FanMode.FanIn, string nonlinearity = "leaky_relu",
        Generator? generator = null)
    {
        var std = Gain(nonlinearity, a) / MathF.Sqrt(Fan(t, mode, "KaimingUniform"));
        var bound = MathF.Sqrt(3f) * std;
        return Uniform(t, -bound, bound, generator);
    }

    public static Tensor KaimingNormal(Tensor t, float a = 0f, FanMode mode = FanMode.FanIn, string nonlinearity = "leaky_relu",
        Generator? generator = null) =>
        Normal(t, 0f, Gain(nonlinearity, a) / MathF.Sqrt(Fan(t, mode, "KaimingNormal")), generator);

    /// <summary>PyTorch's <c>calculate_gain</c>.</summary>
    public static float Gain(string nonlinearity, float param = 0f) => nonlinearity switch
    {
        "linear" or "conv1d" or "conv2d" or "conv3d" or "sigmoid" => 1f,
        "tanh" => 5f / 3f,
        "relu" => MathF.Sqrt(2f),
        "leaky_relu" => MathF.Sqrt(2f / (1f + param * param)),
        "selu" => 3f / 4f,
        _ => throw new ArgumentException($"Init.Gain: unsupported nonlinearity '{nonlinearity}'"),
    };

    /// <summary>PyTorch's <c>_calculate_fan_in_and_fan_out</c>.</summary>
    public static (int FanIn, int FanOut) Fans(Tensor t, string op = "Init")
    {
        if (t.Rank < 2)
            throw new TensorShapeException($"{op}: fan in and fan out cannot be computed for a tensor with fewer than 2 dims (shape {Shapes.Format(t.shape)})");
        var receptive = 1;
        for (var d = 2; d < t.Rank; d++) receptive *= t.shape[d];
        return (t.shape[1] * receptive, t.shape[0] * receptive);
    }

    static int Fan(Tensor t, FanMode mode, string op)
    {
        var (fanIn, fanOut) = Fans(t, op);
        return mode == FanMode.FanIn ? fanIn : fanOut;
    }

    static Tensor Write(Tensor t, Tensor values)
    {
        using var noGrad = Autograd.NoGrad();
        t.CopyFrom(values, "Init");
        return t;
    }
}
