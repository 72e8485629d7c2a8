using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// Checks that a GPU runs without the host waiting for it, reported later: PyTorch's device-side asserts,
/// with the synchronous check's message. A check kernel (index bounds: <see cref="Backend.CheckIndices"/>)
/// that finds a bad value writes it into this device's error slot, 16 bytes of device memory, and nothing
/// is read back then; <see cref="CudaDevice.Synchronize"/>, which every read-back (Item, ToArray, Download)
/// and <c>Cuda.Synchronize()</c> goes through, reads the slot after the stream has drained and throws the
/// check's <see cref="TensorShapeException"/>, saying it was found by an earlier op, then clears the slot.
/// The first failing check wins: the kernels of one stream run in launch order, and a check only writes
/// into a clear slot or one its own launch claimed (each launch has its own number); within a launch
/// atomicMin keeps the lowest position (position in the high 32 bits, the value in the low 32).
/// </summary>
internal sealed unsafe class CudaDeviceAsserts(CudaDevice device)
{
    /// <summary>The slot's bytes: <c>ErrorSlot</c> in common.cuh, { int launch; int check; u64 first }.</summary>
    public const int SlotBytes = 16;

    readonly Lock gate = new();
    readonly Dictionary<string, int> checkIds = [];
    readonly List<string> messages = [""];   // check ids start at 1: 0 marks a clear slot
    ulong slot;
    int launch;
    bool pending;

    /// <summary>
    /// The slot's device address, this launch's number and the check's id (its message, interned so the
    /// table stays as small as the set of distinct messages however many steps run between read-backs).
    /// </summary>
    public (ulong Slot, int Launch, int Check) Arm(string message)
    {
        lock (gate)
        {
            if (slot == 0)
            {
                device.MakeCurrent();
                // Straight from the driver, not the caching allocator: it lives as long as the device and
                // should not show in the tensors' memory statistics.
                var status = CudaDriver.TryAlloc(SlotBytes, out slot);
                CudaDriver.Check(status, $"cuMemAlloc_v2({SlotBytes} bytes, the device's error slot)");
                Clear();
            }
            if (!checkIds.TryGetValue(message, out var check))
            {
                check = messages.Count;
                checkIds[message] = check;
                messages.Add(message);
            }
            launch = launch == int.MaxValue ? 1 : launch + 1;
            pending = true;
            return (slot, launch, check);
        }
    }

    /// <summary>
    /// Called with the stream drained: throws the first failed check queued since the last report, if any.
    /// Costs one 16-byte copy, and only when a check was queued since the last look.
    /// </summary>
    public void Report()
    {
        int check;
        ulong first;
        string? format;
        lock (gate)
        {
            if (!pending) return;
            pending = false;
            var host = stackalloc byte[SlotBytes];
            device.MakeCurrent();
            CudaDriver.CopyDeviceToHost(host, slot, SlotBytes, device.Stream);
            CudaDriver.SynchronizeStream(device.Stream);
            check = *(int*)(host + 4);
            first = *(ulong*)(host + 8);
            if (*(int*)host == 0) return;
            format = check > 0 && check < messages.Count ? messages[check] : null;
            Clear();
        }
        var position = (long)(first >> 32);
        var value = (int)(uint)first;
        var text = format is null ? $"a device-side check (id {check}) failed" : IndexCheck.Message(format, value, position);
        throw new TensorShapeException(
            $"{text} (found on the GPU by a check queued with an earlier op and reported at this read-back: " +
            "on a GPU, index checks run without the host waiting, like PyTorch's device-side asserts)");
    }

    /// <summary>launch = check = 0, first = all ones (atomicMin's identity), queued on the stream.</summary>
    void Clear()
    {
        CudaDriver.Memset32(slot, 0, 2, device.Stream);
        CudaDriver.Memset32(slot + 8, uint.MaxValue, 2, device.Stream);
    }
}
