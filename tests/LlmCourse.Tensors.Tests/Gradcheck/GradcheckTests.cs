using LlmCourse.Tensors.Tests.Parity;

namespace LlmCourse.Tensors.Tests.Gradcheck;

/// <summary>
/// Every differentiable op case of <see cref="OpCases"/> (the same engine lambdas the parity tests run, on
/// the same inputs) checked by finite differences: an oracle that owes nothing to PyTorch.
/// </summary>
public sealed class GradcheckTests(ITestOutputHelper output)
{
    /// <summary>Cases with a differentiable input and no kink or detached path (those are listed with
    /// their reason in <see cref="OpCases"/> and covered by the parity test alone).</summary>
    public static TheoryData<string> Ids => new(OpCases.All
        .Where(c => c.NoFiniteDifferences is null &&
                    Fixtures.Indexed("ops", $"{c.Name}/in").Select((_, i) => i)
                        .Any(i => Fixtures.Has("ops", $"{c.Name}/grad/{i}")))
        .Select(c => c.Id));

    [Theory]
    [MemberData(nameof(Ids))]
    public void GradientMatchesFiniteDifferences(string id)
    {
        var c = OpCases.Get(id);
        var inputs = OpRun.Inputs(c.Name, requiresGrad: false);
        var differentiable = OpRun.Differentiable(c.Name, inputs.Length);
        var outputs = Fixtures.Indexed("ops", $"{c.Name}/out").Count;
        GradCheck.Check(id, c.Run, inputs, differentiable, OpRun.Projections(c.Name, outputs), output);
    }
}
