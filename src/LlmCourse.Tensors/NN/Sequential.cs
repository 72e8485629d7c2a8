namespace LlmCourse.Tensors.NN;

/// <summary>Applies its layers in order; layers that are modules are registered as "0", "1", ...</summary>
public sealed class Sequential : Module, IModule
{
    readonly IModule[] layers;

    public Sequential(params IModule[] layers)
    {
        this.layers = layers;
        for (var i = 0; i < layers.Length; i++)
            if (layers[i] is Module m) Register(i.ToString(System.Globalization.CultureInfo.InvariantCulture), m);
    }

    public int Count => layers.Length;

    public IModule this[int index] => layers[index];

    public Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var layer in layers) x = layer.Forward(x);
        return x;
    }
}
