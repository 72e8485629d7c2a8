using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// Uploads through page-locked ("pinned") staging buffers, so that copying a batch to the GPU never makes the
/// host wait for the GPU. From pageable memory (a managed array) CUDA's asynchronous copy may first synchronize
/// with the stream (its "API synchronization behavior"): the batch uploaded at the start of a training step
/// would wait for the previous step to finish, and the GPU would sit idle while the host queued the next one.
/// PyTorch's loaders pin their batches for the same reason (<c>pin_memory()</c>, <c>non_blocking=True</c>).
/// </summary>
/// <remarks>
/// Each upload copies its bytes into a free slot (a pinned block), queues the DMA from it on the device's stream
/// and records an event after it. The slot is free again once its event has passed: until then the GPU may
/// not have read it. When every slot is busy the oldest is waited for (a host wait, counted). Uploads above
/// <see cref="MaxStagedBytes"/> (weights, loaded once) go the pageable way, as do all of them when the system
/// refuses page-locked memory (a low memlock limit in a container): slower, never wrong.
/// </remarks>
internal sealed unsafe class CudaHostStaging(CudaDevice device)
{
    /// <summary>The largest upload staged: a batch of 64 × 1,024 token ids is 256 KiB.</summary>
    public const long MaxStagedBytes = 4 << 20;

    /// <summary>Slots at most: a step's uploads (inputs, targets, a few scalars) fit many times over.</summary>
    public const int MaxSlots = 16;

    const long SmallestSlot = 64 << 10;

    sealed class Slot
    {
        public IntPtr Host;
        public long Capacity;
        public IntPtr Event;
        public long Queued;   // when its copy was queued (0: never, or known to be done)
    }

    readonly List<Slot> slots = [];
    readonly object gate = new();
    long sequence;
    int slotLimit = MaxSlots;   // lowered to the slots there are when the system refuses more pinned memory (0: none)

    /// <summary>Uploads that went through a pinned slot, and those that went the pageable way (tests count them).</summary>
    public long StagedCopies { get; private set; }
    public long PageableCopies { get; private set; }

    public int Slots
    {
        get { lock (gate) return slots.Count; }
    }

    /// <summary>Queues the copy of <paramref name="bytes"/> to <paramref name="destination"/>; the span may be reused as soon as this returns.</summary>
    public void Copy(ReadOnlySpan<byte> bytes, ulong destination)
    {
        if (bytes.IsEmpty) return;
        device.MakeCurrent();
        lock (gate)
        {
            if (bytes.Length <= MaxStagedBytes && Take(bytes.Length) is { } slot)
            {
                bytes.CopyTo(new Span<byte>((void*)slot.Host, bytes.Length));
                CudaDriver.CopyHostToDevice(destination, (void*)slot.Host, bytes.Length, device.Stream);
                CudaDriver.RecordEvent(slot.Event, device.Stream);
                slot.Queued = ++sequence;
                StagedCopies++;
                return;
            }
            PageableCopies++;
        }
        // From pageable memory the driver stages the bytes before it returns, so the span may go away after.
        fixed (byte* p = bytes) CudaDriver.CopyHostToDevice(destination, p, bytes.Length, device.Stream);
    }

    /// <summary>A slot of at least <paramref name="bytes"/> whose last copy has landed; null when pinned memory was refused.</summary>
    Slot? Take(long bytes)
    {
        foreach (var s in slots)
            if (s.Capacity >= bytes && Done(s)) return s;
        if (slots.Count < slotLimit && Add(bytes) is { } added) return added;
        if (slots.Count == 0) return null;
        // Every slot is busy or too small: take the one queued longest ago (a free one first), enlarged if it must
        // be, waiting for its copy only when it is still in flight.
        var oldest = slots.MinBy(s => s.Queued)!;
        if (!Done(oldest)) device.WaitFor(oldest.Event);
        oldest.Queued = 0;
        if (oldest.Capacity >= bytes) return oldest;
        CudaDriver.FreeHost(oldest.Host);
        slots.Remove(oldest);
        return Add(bytes);
    }

    static bool Done(Slot s)
    {
        if (s.Queued == 0) return true;
        if (!CudaDriver.EventDone(s.Event)) return false;
        s.Queued = 0;
        return true;
    }

    Slot? Add(long bytes)
    {
        var capacity = Math.Max(SmallestSlot, (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)bytes));
        if (CudaDriver.TryAllocHost(capacity, out var host) != CudaDriver.CUDA_SUCCESS)
        {
            slotLimit = slots.Count;   // refused (a memlock limit): make do with the slots there are, or go pageable
            return null;
        }
        var slot = new Slot { Host = host, Capacity = capacity, Event = CudaDriver.CreateEvent() };
        slots.Add(slot);
        return slot;
    }
}
