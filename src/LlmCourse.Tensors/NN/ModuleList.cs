using System.Collections;
using System.Globalization;

namespace LlmCourse.Tensors.NN;

/// <summary>A list of submodules registered as "0", "1", ... (nanoGPT's <c>blocks</c>).</summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    readonly List<T> items = [];

    public ModuleList() { }

    public ModuleList(IEnumerable<T> modules)
    {
        foreach (var m in modules) Add(m);
    }

    public void Add(T module)
    {
        Register(items.Count.ToString(CultureInfo.InvariantCulture), module);
        items.Add(module);
    }

    public T this[int index] => items[index];

    public int Count => items.Count;

    public IEnumerator<T> GetEnumerator() => items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
