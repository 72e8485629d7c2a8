using System.Reflection;
using System.Runtime.CompilerServices;

namespace LlmCourse.Charts;

/// <summary>
/// Makes <c>display(view)</c> then <c>.Update(view)</c> work in the real .NET Interactive kernel, whose
/// <c>display</c> (DisplayExtensions.Display, 1.0.0-beta.26120.1 and tool 1.0.712001) shows the value
/// under one display id and returns a DisplayedValue with another: every <c>Update</c> then targets an
/// output nobody displayed. Jupyter drops such updates (a live chart stays at its first frame) and
/// Polyglot Notebooks appends them as a second output. <c>var d = display("one"); d.Update("two");</c>
/// shows it with no course code.
/// <para>The kernel's public <c>Formatter.SubscribeToDisplayedValues</c> hands every displayed value to a
/// subscriber, the one it showed included. When an update arrives for a view the kernel showed under
/// another id, the bridge sends the same update through the DisplayedValue that was shown (its public
/// <c>Update</c>, which the kernel publishes under the id it displayed), then empties the stray output so
/// Polyglot Notebooks does not show the chart twice. The kernel is found by name with reflection, as the
/// formatter convention is, so the library references no kernel package. Installed from the view
/// formatters the first time the kernel calls them; anywhere else (<c>llmcourse run</c>, tests) there is
/// no kernel assembly and it does nothing.</para>
/// </summary>
static class KernelDisplayBridge
{
    const string FormattingAssembly = "Microsoft.DotNet.Interactive.Formatting";

    // 0: not looked for yet; 1: subscribed; -1: no kernel in this process (or an API we do not know).
    static int state;
    // The kernel's DisplayedValue that a view was shown as (weak: views come and go with cells).
    static readonly ConditionalWeakTable<View, object> shown = new();
    static PropertyInfo? valueProperty, isUpdatedProperty;
    static MethodInfo? updateMethod;

    public static bool IsInstalled => Volatile.Read(ref state) == 1;

    /// <summary>Subscribes to the kernel's displayed values, once, if this process hosts the kernel.</summary>
    public static void EnsureInstalled()
    {
        if (Volatile.Read(ref state) != 0) return;
        lock (shown)
        {
            if (state != 0) return;
            state = TrySubscribe() ? 1 : -1;
        }
    }

    static bool TrySubscribe()
    {
        var formatting = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == FormattingAssembly);
        var displayedValue = formatting?.GetType("Microsoft.DotNet.Interactive.Formatting.DisplayedValue");
        var formatter = formatting?.GetType("Microsoft.DotNet.Interactive.Formatting.Formatter");
        if (displayedValue is null || formatter is null) return false;
        var handlerType = typeof(Action<>).MakeGenericType(displayedValue);
        var subscribe = formatter.GetMethod("SubscribeToDisplayedValues", BindingFlags.Public | BindingFlags.Static, [handlerType]);
        valueProperty = displayedValue.GetProperty("Value");
        isUpdatedProperty = displayedValue.GetProperty("IsUpdated");
        updateMethod = displayedValue.GetMethod("Update", [typeof(object)]);
        if (subscribe is null || valueProperty is null || isUpdatedProperty is null || updateMethod is null) return false;
        // A handler of object binds to Action<DisplayedValue>: delegate parameters are contravariant.
        var handler = Delegate.CreateDelegate(handlerType, typeof(KernelDisplayBridge).GetMethod(nameof(OnDisplayedValue), BindingFlags.NonPublic | BindingFlags.Static)!);
        subscribe.Invoke(null, [handler]);
        return true;
    }

    static void OnDisplayedValue(object displayed)
    {
        if (valueProperty!.GetValue(displayed) is not View view) return;
        lock (shown)
        {
            if (isUpdatedProperty!.GetValue(displayed) is not true)
            {
                shown.AddOrUpdate(view, displayed);   // what the kernel just showed, under the id it will keep
                originals.AddOrUpdate(displayed, displayed);
                unpaired.Add((new WeakReference<object>(displayed), KeyOf(view)));
                return;
            }
            if (originals.TryGetValue(displayed, out _)) return;   // our own forwarded update, or a handle that works
            if (!strays.TryGetValue(displayed, out var original))
            {
                // The handle display() returned, updating for the first time. With the view it displayed, the pair
                // is known; with a new view (a cell that redraws its chart: shown.Update(Chart())), it is the latest
                // output shown for a view of the same kind and title that no handle has claimed yet.
                if (!shown.TryGetValue(view, out original)) original = ClaimLatest(KeyOf(view));
                if (original is null) return;
                strays.AddOrUpdate(displayed, original);
            }
            Release(original);
            updateMethod!.Invoke(original, [view]);   // the update, where the view is shown
            updateMethod.Invoke(displayed, [""]);     // the stray output (Polyglot Notebooks shows it) emptied
        }
    }

    // The outputs the kernel showed (they update correctly), the handles paired with them, and the
    // shown outputs not yet claimed by a handle, newest last.
    static readonly ConditionalWeakTable<object, object> originals = new(), strays = new();
    static readonly List<(WeakReference<object> Output, string Key)> unpaired = [];

    static string KeyOf(View view) => view is Chart chart ? $"{view.GetType().FullName}: {chart.Title}" : view.GetType().FullName!;

    static object? ClaimLatest(string key)
    {
        for (var i = unpaired.Count - 1; i >= 0; i--)
            if (unpaired[i].Key == key && unpaired[i].Output.TryGetTarget(out var output))
            {
                unpaired.RemoveAt(i);
                return output;
            }
        return null;
    }

    static void Release(object original)
    {
        unpaired.RemoveAll(u => !u.Output.TryGetTarget(out var o) || ReferenceEquals(o, original));
    }
}
