namespace LlmCourse.Tensors;

/// <summary>
/// Reverse-mode differentiation over the recorded graph: a topological order from the root, each
/// node's gradient summed from its consumers before its rule runs, leaf gradients accumulated into
/// <see cref="Tensor.Grad"/>. Runs without recording (no double backward) and inside its own
/// <see cref="TensorScope"/>, so intermediate gradients go back to the memory pool when it ends.
/// </summary>
internal static class Engine
{
    static int epoch;

    public static void Backward(Tensor root, Tensor? gradient, bool retainGraph)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException(
                "Backward: the tensor does not require grad and has no grad_fn (did you create it under NoGrad, or forget RequiresGrad = true on its inputs?)");
        if (gradient is null)
        {
            if (root.Count != 1)
                throw new TensorShapeException(
                    $"Backward: a gradient can be created implicitly only for scalar outputs; got shape {Shapes.Format(root.shape)}; pass Backward(gradient)");
        }
        else
        {
            if (!Shapes.Equal(gradient.shape, root.shape))
                throw new TensorShapeException(
                    $"Backward: gradient has shape {Shapes.Format(gradient.shape)}, but the output has shape {Shapes.Format(root.shape)}");
            if (gradient.Device != root.Device)
                throw new TensorShapeException($"Backward: gradient is on {gradient.Device}, output on {root.Device}");
        }

        using var noGrad = Autograd.NoGrad();
        using var section = OpProfiler.Section(OpProfiler.BackwardSection);
        using var scope = TensorScope.Begin();
        var seed = gradient ?? Tensor.OnesOn(root.shape, root.Device);
        seed.Storage.GradientRefs++;

        if (root.GradFn is null)
        {
            AccumulateLeaf(root, seed, scope);
            return;
        }

        var order = TopologicalOrder(root.GradFn);
        root.GradFn.PendingGrad = seed;
        var gradInputs = new Tensor?[8];
        try
        {
            // `order` is a post-order (inputs before consumers), so walk it backwards.
            for (var n = order.Count - 1; n >= 0; n--)
            {
                var node = order[n];
                var gy = node.PendingGrad;
                node.PendingGrad = null;
                if (gy is null) continue;
                if (node is IPartViewGradient view && node.Next[0].Fn is { } input && !Autograd.DetectNonFinite &&
                    WriteIntoPart(view, gy, input, node.Next[0].Shape, scope))
                {
                    gy.Storage.GradientRefs--;
                    ReleaseIfConsumed(gy, scope);
                    continue;
                }
                if (gradInputs.Length < node.Next.Length) gradInputs = new Tensor?[node.Next.Length];
                Array.Clear(gradInputs);
                node.Backward(gy, gradInputs);
                // Count every gradient produced before routing any, then let go of the consumed one,
                // so a gradient whose storage nothing else views can be reused rather than copied.
                for (var i = 0; i < node.Next.Length; i++)
                {
                    var g = gradInputs[i];
                    var edge = node.Next[i];
                    if (g is null || !edge.NeedsGrad) continue;
                    if (!Shapes.Equal(g.shape, edge.Shape))
                        throw new InvalidOperationException(
                            $"{node.Name}: internal error: gradient for input {i} has shape {Shapes.Format(g.shape)}, the input has {Shapes.Format(edge.Shape)}");
                    if (Autograd.DetectNonFinite) NonFinite.Check(node.Name, "backward", g, gy);
                    g.Storage.GradientRefs++;
                }
                gy.Storage.GradientRefs--;
                ReleaseIfConsumed(gy, scope);
                for (var i = 0; i < node.Next.Length; i++)
                {
                    var g = gradInputs[i];
                    var edge = node.Next[i];
                    if (g is null || !edge.NeedsGrad) continue;
                    if (edge.Fn is { } fn)
                    {
                        fn.PendingGrad = Sum(fn.PendingGrad, g, scope);
                        fn.PendingParts = null;   // no longer only disjoint parts
                    }
                    else AccumulateLeaf(edge.Leaf!, g, scope);
                }
            }
        }
        finally
        {
            foreach (var node in order)
            {
                node.PendingGrad = null;
                node.PendingParts = null;
                if (!retainGraph) node.Release();
            }
        }
    }

    /// <summary>Post-order of the nodes reachable from <paramref name="root"/>, iteratively (RNN graphs are deep).</summary>
    static List<Node> TopologicalOrder(Node root)
    {
        var mark = Interlocked.Increment(ref epoch);
        var order = new List<Node>();
        var stack = new Stack<(Node Node, int Next)>();
        root.Mark = mark;
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.Next.Length)
            {
                stack.Push((node, next + 1));
                if (node.Next[next].Fn is { } child && child.Mark != mark)
                {
                    child.Mark = mark;
                    stack.Push((child, 0));
                }
            }
            else order.Add(node);
        }
        return order;
    }

    /// <summary>True when <paramref name="g"/> is this pass's own, whole, contiguous buffer that no other gradient views.</summary>
    static bool Exclusive(Tensor g, TensorScope scope) =>
        g.Storage.GradientRefs == 1 && g.Storage.Owner == scope && !g.Storage.Exposed &&
        g.contiguous && g.offset == 0 && g.Count == g.Storage.Length;

    /// <summary>Adds a gradient to a node's pending sum, in place when the pending buffer is exclusively ours.</summary>
    static Tensor Sum(Tensor? pending, Tensor g, TensorScope scope)
    {
        if (pending is null) return g;
        g.Storage.GradientRefs--;
        if (Exclusive(pending, scope))
        {
            pending.AddInPlace(g);
            ReleaseIfConsumed(g, scope);
            return pending;
        }
        pending.Storage.GradientRefs--;
        var sum = pending + g;
        sum.Storage.GradientRefs++;
        ReleaseIfConsumed(pending, scope);
        ReleaseIfConsumed(g, scope);
        return sum;
    }

    /// <summary>
    /// A part view's gradient written into its part of the input's pending gradient: copied into zeros
    /// when the input has none yet, or into a region no part has touched yet (the zeros are still there), else
    /// added in place, when the pending one is exclusively ours (else false: the view's own rule runs). The sums
    /// are those the rule's zero-filled tensor would have given. The zeros come from the backend
    /// (<see cref="Backends.Backend.ZerosForParts"/>): on a GPU, in the parts' 16-bit format when they are held so.
    /// </summary>
    static bool WriteIntoPart(IPartViewGradient view, Tensor gy, Node input, int[] inputShape, TensorScope scope)
    {
        var pending = input.PendingGrad;
        if (pending is null)
        {
            pending = gy.Backend.ZerosForParts(inputShape, gy);
            pending.Storage.GradientRefs++;
            view.Part(pending).CopyFrom(gy);
            input.PendingGrad = pending;
            input.PendingParts = view.Region is { } first ? [first] : null;
            return true;
        }
        if (!Exclusive(pending, scope)) return false;
        if (input.PendingParts is { } parts && view.Region is { } region && parts.All(region.Disjoint))
        {
            // Still zeros there (a split's query, key and value): the copy is the sum, and a GPU's 16-bit buffer stays 16-bit.
            view.Part(pending).CopyFrom(gy);
            parts.Add(region);
            return true;
        }
        view.Part(pending).AddInPlace(gy);
        input.PendingParts = null;
        return true;
    }

    /// <summary>
    /// Gives a gradient's memory back to the pool as soon as it has been consumed, when it is this
    /// pass's own buffer and no gradient still in flight views it: the rest of the pass reuses it, so
    /// backward needs about one layer's gradients at a time rather than all of them until the step ends.
    /// </summary>
    static void ReleaseIfConsumed(Tensor g, TensorScope scope)
    {
        var storage = g.Storage;
        if (storage.GradientRefs == 0 && storage.Owner == scope && !storage.Exposed) storage.Release("the backward pass consumed this gradient");
    }

    /// <summary>
    /// PyTorch semantics: a leaf's first gradient becomes its <see cref="Tensor.Grad"/> (taken over
    /// without a copy when nothing else views it, else copied into a fresh contiguous tensor); later
    /// ones are added in place.
    /// </summary>
    static void AccumulateLeaf(Tensor leaf, Tensor g, TensorScope scope)
    {
        using var unscoped = TensorScope.Suspend();
        if (leaf.grad is null && Exclusive(g, scope))
        {
            g.Storage.Owner = null; // now the leaf's: the backward scope must not recycle it
            leaf.grad = g;
        }
        else if (leaf.grad is null) leaf.grad = g.Clone();
        else leaf.grad.AddInPlace(g);
        g.Storage.GradientRefs--;
        ReleaseIfConsumed(g, scope);
    }
}
