namespace LlmCourse.Tensors.Tests.Parity;

/// <summary>
/// Runs an <see cref="OpCase"/> on its fixture inputs. The scalar that is differentiated is
/// L = Σ_k Σ_i out_k[i] · proj_k[i], with the fixture's random projections proj_k, exactly as the
/// Python script did, so the input gradients are comparable element by element.
/// </summary>
public static class OpRun
{
    /// <summary>Fresh copies of CASE/in/i; those with a CASE/grad/i reference get RequiresGrad when asked.</summary>
    public static Tensor[] Inputs(string name, bool requiresGrad)
    {
        var inputs = Fixtures.Indexed("ops", $"{name}/in").Select(Fixtures.Copy).ToArray();
        if (requiresGrad)
            for (var i = 0; i < inputs.Length; i++)
                if (Fixtures.Has("ops", $"{name}/grad/{i}"))
                    inputs[i].RequiresGrad = true;
        return inputs;
    }

    /// <summary>Whether input i has a reference gradient (float inputs that are not masks or conditions).</summary>
    public static bool[] Differentiable(string name, int count) =>
        Enumerable.Range(0, count).Select(i => Fixtures.Has("ops", $"{name}/grad/{i}")).ToArray();

    /// <summary>proj_k for each output k that PyTorch differentiated; null for indices and masks.</summary>
    public static Tensor?[] Projections(string name, int outputs) =>
        Enumerable.Range(0, outputs)
            .Select(k => Fixtures.Has("ops", $"{name}/proj/{k}") ? Fixtures.Get("ops", $"{name}/proj/{k}") : null)
            .ToArray();

    /// <summary>L as an engine tensor (for Backward), or null when no output is differentiated.</summary>
    public static Tensor? Loss(Tensor[] outputs, Tensor?[] projections)
    {
        Tensor? loss = null;
        for (var k = 0; k < outputs.Length; k++)
        {
            if (projections[k] is not { } p) continue;
            var term = (outputs[k] * p).Sum();
            loss = loss is null ? term : loss + term;
        }
        return loss;
    }

    /// <summary>L in double precision from float32 outputs (the finite-difference side).</summary>
    public static double LossValue(Tensor[] outputs, Tensor?[] projections)
    {
        double sum = 0;
        for (var k = 0; k < outputs.Length; k++)
        {
            if (projections[k] is not { } p) continue;
            var o = outputs[k].ToArray();
            var w = p.ToArray();
            if (o.Length != w.Length)
                throw new InvalidOperationException(
                    $"output {k} has shape {TensorAssert.Format(outputs[k].Shape)}, the projection {TensorAssert.Format(p.Shape)}");
            for (var i = 0; i < o.Length; i++) sum += (double)o[i] * w[i];
        }
        return sum;
    }
}
