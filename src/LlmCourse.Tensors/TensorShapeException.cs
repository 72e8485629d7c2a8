namespace LlmCourse.Tensors;

/// <summary>
/// Bad shapes, dims or dtypes given to an op. The message starts with the op's name and names the
/// shapes involved, e.g. <c>MatMul: [32,64] @ [128,16]: inner dims 64 != 128</c>.
/// </summary>
public sealed class TensorShapeException : ArgumentException
{
    public TensorShapeException(string message) : base(message) { }

    public TensorShapeException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Thrown when <see cref="Autograd.DetectNonFinite"/> is on and an op produced a NaN or an infinity
/// that none of its inputs held; names the op, the shapes and whether it was the forward or backward pass.
/// </summary>
public sealed class NonFiniteException : ArithmeticException
{
    public NonFiniteException(string op, string pass, string shapes, string what)
        : base($"{op} ({pass}): produced {what}; shapes {shapes}.")
    {
        Op = op;
        Pass = pass;
    }

    /// <summary>The op that produced the value, e.g. <c>Log</c> or <c>MatMulBackward</c>.</summary>
    public string Op { get; }

    /// <summary><c>forward</c> or <c>backward</c>.</summary>
    public string Pass { get; }
}
