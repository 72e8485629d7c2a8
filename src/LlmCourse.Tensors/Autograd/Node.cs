namespace LlmCourse.Tensors;

/// <summary>
/// Where a gradient goes: the node that produced an input (non-leaf), or the leaf itself, or nowhere.
/// Edges point to nodes rather than to the input tensors, so activations can be collected once the
/// graph is released.
/// </summary>
internal readonly struct Edge(Node? fn, Tensor? leaf, int[] shape)
{
    public readonly Node? Fn = fn;
    public readonly Tensor? Leaf = leaf;
    public readonly int[] Shape = shape;

    public bool NeedsGrad => Fn is not null || Leaf is not null;

    public static Edge For(Tensor? input) =>
        input is null ? new Edge(null, null, [])
        : !input.RequiresGrad ? new Edge(null, null, input.shape)
        : input.GradFn is { } fn ? new Edge(fn, null, input.shape)
        : new Edge(null, input, input.shape);
}

/// <summary>
/// A recorded op: the gradient rule of one primitive. Subclasses sit right under their forward code
/// (in the same file, in Ops/, so an op and its gradient read together), keep in fields what backward needs, and fill <c>gradInputs[i]</c> for every input whose
/// edge needs a gradient. Gradients they return must have exactly the input's shape.
/// </summary>
internal abstract class Node
{
    bool released;

    protected Node(string name, Tensor? a)
    {
        Name = name;
        Next = [Edge.For(a)];
    }

    protected Node(string name, Tensor? a, Tensor? b)
    {
        Name = name;
        Next = [Edge.For(a), Edge.For(b)];
    }

    protected Node(string name, Tensor? a, Tensor? b, Tensor? c)
    {
        Name = name;
        Next = [Edge.For(a), Edge.For(b), Edge.For(c)];
    }

    protected Node(string name, IReadOnlyList<Tensor> inputs)
    {
        Name = name;
        Next = new Edge[inputs.Count];
        for (var i = 0; i < inputs.Count; i++) Next[i] = Edge.For(inputs[i]);
    }

    /// <summary>PyTorch's grad_fn name, e.g. <c>MulBackward</c>.</summary>
    public string Name { get; }

    public Edge[] Next { get; }

    /// <summary>Sum of the gradients that reached this node's output so far (used by the engine only).</summary>
    internal Tensor? PendingGrad;

    /// <summary>
    /// The regions of <see cref="PendingGrad"/> that part views have written (see <see cref="IPartViewGradient.Region"/>),
    /// while every write so far went into a region no other had touched; null once anything else was added.
    /// </summary>
    internal List<PartRegion>? PendingParts;

    /// <summary>Traversal mark of the last backward pass that visited this node.</summary>
    internal int Mark;

    public bool NeedsGrad(int input) => Next[input].NeedsGrad;

    public abstract void Backward(Tensor gradOutput, Tensor?[] gradInputs);

    /// <summary>Drops the tensors saved for backward; called after a backward pass without retainGraph.</summary>
    public void Release()
    {
        released = true;
        ReleaseSaved();
    }

    /// <summary>Nodes that save tensors null them here; later use of <see cref="Saved{T}"/> then throws.</summary>
    protected virtual void ReleaseSaved() { }

    protected T Saved<T>(T? value) where T : class =>
        value ?? throw new InvalidOperationException(
            $"{Name}: trying to backward through the graph a second time (or to use saved tensors after they were freed). " +
            "Saved intermediate values are freed when you call Backward(); call Backward(retainGraph: true) the first time " +
            "if you need to backward through the graph again.");

    internal bool IsReleased => released;

    public override string ToString() => Name;
}

/// <summary>
/// A view that picks part of its one input (a slice, a narrow, a select). Its gradient is zero except
/// on that part, so the engine writes the incoming gradient straight into that part of the input's
/// pending gradient, instead of the rule's zero-filled copy of the whole input that is then added
/// (three of them per attention layer, for the query, key and value split out of one projection).
/// </summary>
internal interface IPartViewGradient
{
    /// <summary>The part of <paramref name="inputGradient"/> (a tensor of the input's shape) this view covers.</summary>
    Tensor Part(Tensor inputGradient);

    /// <summary>Indices [Start, End) of one dim of the input, every element of which the part covers; null if it skips some (a step).</summary>
    PartRegion? Region { get; }
}

/// <summary>The slab of an input that a slice or a select covers: indices [Start, End) of dim <see cref="Dim"/>.</summary>
internal readonly record struct PartRegion(int Dim, int Start, int End)
{
    /// <summary>Provably no element in common: slabs of one dim whose index ranges do not meet.</summary>
    public bool Disjoint(PartRegion other) => Dim == other.Dim && (End <= other.Start || other.End <= Start);
}
