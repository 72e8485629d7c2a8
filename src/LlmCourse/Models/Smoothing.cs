using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Models;

/// <summary>
/// How an n-gram model turns counts into probabilities. Every one of them gives a distribution
/// that sums to one over the vocabulary for every context, seen or not.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public abstract record Smoothing
{
    /// <summary>Relative frequencies, c(context, w) / c(context): zero for anything unseen.</summary>
    public static Smoothing None { get; } = new MaximumLikelihood();

    /// <summary>Add k to every count: (c(context, w) + k) / (c(context) + k·V).</summary>
    public static Smoothing AddK(double k) => new AddKSmoothing(k);

    /// <summary>Add one (Laplace, 1812).</summary>
    public static Smoothing Laplace { get; } = new AddKSmoothing(1);

    /// <summary>Interpolated Kneser–Ney (Kneser and Ney 1995; Chen and Goodman 1998), with one
    /// absolute discount per order, estimated as n₁ / (n₁ + 2·n₂) unless given.</summary>
    public static Smoothing KneserNey(double? discount = null) => new KneserNeySmoothing(discount);
}

public sealed record MaximumLikelihood : Smoothing
{
    public override string ToString() => "MLE";
}

public sealed record AddKSmoothing : Smoothing
{
    public AddKSmoothing(double k)
    {
        if (!(k > 0) || double.IsInfinity(k))
            throw new ArgumentOutOfRangeException(nameof(k), k, "Add-k smoothing: k must be a positive number (use Smoothing.None for k = 0).");
        K = k;
    }

    public double K { get; }

    public override string ToString() => K == 1 ? "add-1" : $"add-{K:G3}";
}

public sealed record KneserNeySmoothing : Smoothing
{
    public KneserNeySmoothing(double? discount = null)
    {
        if (discount is { } d && !(d > 0 && d <= 1))
            throw new ArgumentOutOfRangeException(nameof(discount), discount,
                "Kneser–Ney: the discount must be in (0, 1], or null to estimate it from the counts.");
        Discount = discount;
    }

    public double? Discount { get; }

    public override string ToString() => Discount is { } d ? $"Kneser–Ney, D={d:G3}" : "Kneser–Ney";
}
