namespace LlmCourse.Tests.Setup;

/// <summary>LLMCOURSE_QUICK is read strictly: a mistyped value is an error, not hours of full-mode training.</summary>
public sealed class Fault_EnvironmentTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("Off", false)]
    [InlineData("1", true)]
    [InlineData("TRUE", true)]
    [InlineData(" yes ", true)]
    [InlineData("on", true)]
    public void Quick_AcceptsTheUsualSpellingsOfOnAndOff(string? value, bool quick) =>
        Assert.Equal(quick, Course.ParseQuick(value));

    [Theory]
    [InlineData("quick")]
    [InlineData("2")]
    [InlineData("ture")]
    public void Fault_AnInvalidQuickValue_IsAnError_NamingTheVariableTheValueAndTheChoices(string value)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Course.ParseQuick(value));

        Assert.StartsWith($"LLMCOURSE_QUICK='{value}' is neither on nor off", e.Message);
        Assert.Contains("set it to 1 for quick mode", e.Message);
        Assert.Contains("to 0 (or unset it) for full mode", e.Message);
    }
}

/// <summary>The doctor shows an invalid LLMCOURSE_QUICK instead of failing with it (the variable is process-wide: run alone).</summary>
[Collection(nameof(LlmCourse.Tests.Training.GlobalGenerator))]
public sealed class Fault_EnvironmentDoctorTests
{
    [Fact]
    public void Fault_AnInvalidQuickValue_IsShownByTheDoctor()
    {
        var before = Environment.GetEnvironmentVariable(Course.QuickVariable);
        Environment.SetEnvironmentVariable(Course.QuickVariable, "quik");
        try
        {
            Assert.Throws<InvalidOperationException>(() => Course.IsQuick);
            var report = LlmCourse.Setup.SystemReport.Collect(new LlmCourse.Text.DatasetStore(null, Path.GetTempPath()));

            Assert.StartsWith("LLMCOURSE_QUICK='quik' is neither on nor off", report.QuickModeProblem);
            Assert.Contains("not understood: LLMCOURSE_QUICK='quik'", report.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(Course.QuickVariable, before);
        }
    }
}
