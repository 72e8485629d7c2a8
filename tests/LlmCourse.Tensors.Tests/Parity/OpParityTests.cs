namespace LlmCourse.Tensors.Tests.Parity;

/// <summary>
/// Every op against PyTorch: outputs, then the gradient of every input, on the fixture's inputs
/// (tests/parity/make_engine_fixtures.py). Tolerances are in <see cref="OpCases"/> and <see cref="Tolerance"/>.
/// </summary>
[Trait("Category", "Parity")]
public sealed class OpParityTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(OpCases.Ids), MemberType = typeof(OpCases))]
    public void MatchesPyTorch(string id)
    {
        var c = OpCases.Get(id);
        var inputs = OpRun.Inputs(c.Name, requiresGrad: true);
        var expected = Fixtures.Indexed("ops", $"{c.Name}/out");
        var outputs = c.Run(inputs);
        Assert.True(outputs.Length == expected.Count,
            $"{id}: {outputs.Length} outputs, PyTorch gives {expected.Count}");
        for (var k = 0; k < outputs.Length; k++)
            TensorAssert.Close($"{id} output {k}", outputs[k], expected[k], c.Forward, output, Fixtures.Yardstick(c.Name));

        var loss = OpRun.Loss(outputs, OpRun.Projections(c.Name, outputs.Length));
        if (loss is null) return;   // indices, comparisons: nothing to differentiate
        loss.Backward();
        for (var i = 0; i < inputs.Length; i++)
        {
            if (!Fixtures.Has("ops", $"{c.Name}/grad/{i}")) continue;
            var grad = inputs[i].Grad;
            Assert.True(grad is not null, $"{id}: no gradient reached input {i} (PyTorch computes one)");
            TensorAssert.Close($"{id} grad {i}", grad!, Fixtures.Get("ops", $"{c.Name}/grad/{i}"), c.Backward, output,
                Fixtures.Yardstick(c.Name));
        }
    }

    /// <summary>The script and the tests list the same cases: none is generated and left untested, none tested against nothing.</summary>
    [Fact]
    public void EveryFixtureCaseHasAnEngineCase()
    {
        var fixture = Fixtures.OpCaseNames();
        fixture.Remove("accumulate");   // run by AutogradSemanticsTests (two backward passes)
        var engine = new SortedSet<string>(OpCases.All.Select(c => c.Name), StringComparer.Ordinal);
        Assert.Empty(fixture.Except(engine));
        Assert.Empty(engine.Except(fixture));
    }
}
