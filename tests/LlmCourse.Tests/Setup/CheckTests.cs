namespace LlmCourse.Tests.Setup;

/// <summary>Exercise checks print ✓/✗ with a hint and return the verdict; they never throw.</summary>
public sealed class CheckTests : IDisposable
{
    readonly StringWriter output = new();

    public CheckTests() => Check.Output = output;

    public void Dispose() => Check.Output = null;

    string[] Lines() => output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    [Fact]
    public void Passing_PrintsATick_AndTheValue()
    {
        Assert.True(Check.Equal(65, 65, "vocabulary size"));
        Assert.True(Check.Close(14, 14.0000001, 1e-6, "f'(2)"));
        Assert.True(Check.That(true, "loss went down"));

        Assert.Equal(["✓ vocabulary size = 65", "✓ f'(2) = 14", "✓ loss went down"], Lines());
    }

    [Fact]
    public void Failing_PrintsACross_ExpectedAndActual_AndTheHint_WithoutThrowing()
    {
        Assert.False(Check.Close(14, 12, 1e-6, "f'(2)", hint: "d/dx x³ = 3x²"));
        Assert.False(Check.Equal("abc", "abd", "decoded text"));

        Assert.Equal(["✗ f'(2): expected 14 (± 1E-06), got 12", "  hint: d/dx x³ = 3x²", "✗ decoded text: expected \"abc\", got \"abd\""], Lines());
    }

    [Fact]
    public void Answer_ReturnsTheValue_AndPrintsNothing_WhenTheCodeRuns()
    {
        Assert.Equal(42, Check.Answer(() => 6 * 7, "the answer"));
        Assert.Empty(Lines());
    }

    [Fact]
    public void Answer_AnUnansweredStub_IsACross_AndTheChecksAfterItFail_WithoutThrowing()
    {
        float[]? mine = Check.Answer<float[]>(() => throw new NotImplementedException(), "your softmax", hint: "exp, then divide by the sum");
        Assert.Null(mine);
        Assert.False(Check.Close([0.5f, 0.5f], mine, 1e-6, "softmax of [1, 1]"));
        Assert.Equal(0.0, Check.Answer(() => Math.Sqrt(double.Parse("x")), "parse")); // any other exception is named

        var lines = Lines();
        Assert.Equal("✗ your softmax: not answered yet: write your code between the ▼ answer and ▲ answer markers", lines[0]);
        Assert.Equal("  hint: exp, then divide by the sum", lines[1]);
        Assert.Equal("✗ softmax of [1, 1]: expected [0.5, 0.5], got no answer yet", lines[2]);
        Assert.StartsWith("✗ parse: your code threw FormatException: ", lines[3]);
    }

    [Fact]
    public void Vectors_ReportTheLargestDifferenceAndWhere()
    {
        Assert.True(Check.Close([1f, 2f, 3f], [1f, 2.0000001f, 3f], 1e-5, "logits"));
        Assert.False(Check.Close([1f, 2f, 3f], [1f, 2.5f, 3f], 1e-3, "logits"));
        Assert.False(Check.Close([1f, 2f], [1f], 1e-3, "logits"));
        Assert.False(Check.Close([1f], [float.NaN], 1e-3, "nan"));

        var lines = Lines();
        Assert.Contains("largest difference 0.5 at index 1 (tolerance 0.001)", lines[1]);
        Assert.Equal("✗ logits: expected 2 values, got 1 values", lines[2]);
        Assert.StartsWith("✗ nan", lines[3]);
    }

    /// <summary>A NaN anywhere fails the check: [NaN, 2, 3] against [1, 2, 3] once passed, the NaN overwritten by the next element.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Vectors_NaNInAnyPosition_Fails_AndIsNamed(int position)
    {
        float[] expected = [1f, 2f, 3f];
        var actual = (float[])expected.Clone();
        actual[position] = float.NaN;

        Assert.False(Check.Close(expected, actual, 1e3, "logits"));
        Assert.False(Check.Close(actual, expected, 1e3, "logits"));

        var lines = Lines();
        Assert.All(lines, line => Assert.StartsWith("✗ logits", line));
        Assert.All(lines, line => Assert.Contains($"at index {position}", line));
    }

    [Theory]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Vectors_AnInfinityAgainstANumber_Fails_TheSameInfinityPasses(float infinity)
    {
        Assert.False(Check.Close([infinity, 2f, 3f], [1f, 2f, 3f], 1e30, "a"));
        Assert.False(Check.Close([1f, 2f, 3f], [1f, infinity, 3f], 1e30, "b"));
        Assert.False(Check.Close([1f, 2f, -infinity], [1f, 2f, infinity], 1e30, "c"));
        Assert.True(Check.Close([1f, infinity, 3f], [1f, infinity, 3f], 0, "d"));
        Assert.False(Check.Close(1.0, double.NaN, 1e30, "scalar"));
        Assert.False(Check.Close(1.0, infinity, 1e30, "scalar"));
    }

    [Fact]
    public void Summary_CountsWhatRan()
    {
        var (passedBefore, failedBefore) = Check.Tally;
        Check.That(true, "a");
        Check.That(false, "b");
        var (passedAfter, failedAfter) = Check.Tally;

        Assert.True(passedAfter - passedBefore >= 1 && failedAfter - failedBefore >= 1);
        Assert.StartsWith("✗ ", Check.Summary());
    }
}
