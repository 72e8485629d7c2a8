namespace LlmCourse.Tensors.Tests.Graph;

/// <summary>
/// Slices, narrows and selects of an intermediate tensor write their gradients straight into their
/// part of its pending gradient (see Engine.WriteIntoPart). Every mix of routes must sum to the
/// gradient worked out by hand: parts first or whole uses first, overlapping parts, parts of parts.
/// </summary>
public sealed class PartViewGradientTests
{
    // y = 3 x over a [3, 4] grid; each term of the loss weights some of y's elements.
    static readonly float[] X = [.. Enumerable.Range(0, 12).Select(i => 0.5f * i - 2f)];

    static float[] Expected(params (int Row, int Col, float Weight)[] terms)
    {
        var g = new float[12];
        foreach (var (r, c, w) in terms) g[r * 4 + c] += 3f * w;
        return g;
    }

    [Fact]
    public void PartsAndTheWholeSumTheirGradientsWhateverTheOrder()
    {
        var x = Tensor.FromArray(X, 3, 4).WithGrad();
        var y = x * 3f;
        // whole use (weight 1), narrow of columns 1..2 (weight 2), select row 2 (weight 5), step-2 slice of columns (weight 7)
        var loss = y.Sum() + (y.Narrow(1, 1, 2) * 2f).Sum() + (y.Select(0, 2) * 5f).Sum() + (y.Slice(1, 0, 4, 2) * 7f).Sum();
        loss.Backward();
        var terms = new List<(int, int, float)>();
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 4; c++)
            {
                terms.Add((r, c, 1f));
                if (c is 1 or 2) terms.Add((r, c, 2f));
                if (r == 2) terms.Add((r, c, 5f));
                if (c % 2 == 0) terms.Add((r, c, 7f));
            }
        Assert.Equal(Expected([.. terms]), x.Grad!.ToArray());
    }

    [Fact]
    public void SplitPiecesFillTheirInputsGradient()
    {
        // GPT's query, key and value: three pieces of one projection, each used once.
        var x = Tensor.FromArray(X, 3, 4).WithGrad();
        var pieces = (x * 3f).Split(2, dim: 1);
        (pieces[0] * 2f + pieces[1] * -1f).Sum().Backward();
        var terms = new List<(int, int, float)>();
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 4; c++) terms.Add((r, c, c < 2 ? 2f : -1f));
        Assert.Equal(Expected([.. terms]), x.Grad!.ToArray());
    }

    [Fact]
    public void DisjointPartsAreCopiedAndAnyOverlapIsAdded()
    {
        // Parts into regions no other part touched are copied (the zeros are still there); a part that meets an
        // earlier one, twice the same region, or a slab of another dim must be added. Whatever the order.
        var x = Tensor.FromArray(X, 3, 4).WithGrad();
        var y = x * 3f;
        var loss = (y.Narrow(1, 0, 2) * 2f).Sum() + (y.Narrow(1, 2, 2) * -1f).Sum() + (y.Narrow(1, 1, 2) * 4f).Sum()
                   + (y.Narrow(1, 0, 2) * 6f).Sum() + (y.Select(0, 1) * 5f).Sum();
        loss.Backward();
        var terms = new List<(int, int, float)>();
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 4; c++)
            {
                terms.Add((r, c, c < 2 ? 2f : -1f));
                if (c is 1 or 2) terms.Add((r, c, 4f));
                if (c < 2) terms.Add((r, c, 6f));
                if (r == 1) terms.Add((r, c, 5f));
            }
        Assert.Equal(Expected([.. terms]), x.Grad!.ToArray());
    }

    [Fact]
    public void APartOfAPartAndAPartOfALeafAreRoutedToo()
    {
        var x = Tensor.FromArray(X, 3, 4).WithGrad();
        var y = x * 3f;
        var row = y.Select(0, 1);                              // [4]
        var loss = (row.Narrow(0, 1, 2) * 4f).Sum() + (x.Select(1, 3) * 10f).Sum();   // the second part views the leaf
        loss.Backward();
        var expected = Expected((1, 1, 4f), (1, 2, 4f));
        for (var r = 0; r < 3; r++) expected[r * 4 + 3] += 10f;
        Assert.Equal(expected, x.Grad!.ToArray());
    }
}
