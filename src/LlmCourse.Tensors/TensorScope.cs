using LlmCourse.Tensors.Backends;

namespace LlmCourse.Tensors;

/// <summary>
/// A region (typically one training step) whose tensors give their memory back to the pool when it
/// ends, so the next step reuses it instead of allocating afresh:
/// <code>
/// using (var step = TensorScope.Begin())
/// {
///     var loss = F.CrossEntropy(model.Forward(x), y);
///     loss.Backward();
///     optimizer.Step();
///     lossValue = loss.Item();          // read what you need before the scope ends
/// }
/// </code>
/// Tensors created inside the scope must not be used after it (doing so throws a clear
/// <see cref="ObjectDisposedException"/>, never reads recycled memory); <see cref="Keep"/> moves one out.
/// Parameters, their gradients and optimizer state are not owned by scopes. Without a scope, tensors
/// are simply garbage collected. Scopes are per thread and nest.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] static TensorScope? current;
    [ThreadStatic] static int suspended;

    readonly TensorScope? parent;
    readonly List<Storage> owned = [];
    bool disposed;

    TensorScope(TensorScope? parent) => this.parent = parent;

    internal static TensorScope? Current => suspended > 0 ? null : current;

    public static TensorScope Begin() => current = new TensorScope(current);

    /// <summary>Number of storages this scope will recycle when it ends.</summary>
    public int OwnedCount => owned.Count(s => s.Owner == this && !s.IsReleased);

    internal void Track(Storage storage)
    {
        storage.Owner = this;
        owned.Add(storage);
    }

    /// <summary>
    /// Moves a tensor's memory out of this scope, to the enclosing scope or (at the outermost scope)
    /// to the garbage collector; returns the tensor. Views sharing the storage are kept too.
    /// </summary>
    public Tensor Keep(Tensor tensor)
    {
        var storage = tensor.Storage;
        if (storage.Owner != this) return tensor;
        storage.Owner = null;
        parent?.Track(storage);
        return tensor;
    }

    public void Dispose()
    {
        if (disposed) return;
        if (current != this)
            throw new InvalidOperationException("TensorScope: scopes must end in the reverse order they began, on the thread that began them.");
        disposed = true;
        current = parent;
        foreach (var storage in owned)
            if (storage.Owner == this) storage.Release("its TensorScope ended");
        owned.Clear();
    }

    /// <summary>While the returned value lives, new storages belong to no scope (leaf gradients, optimizer state).</summary>
    internal static SuspendToken Suspend()
    {
        suspended++;
        return default;
    }

    internal readonly struct SuspendToken : IDisposable
    {
        public void Dispose() => suspended--;
    }
}
