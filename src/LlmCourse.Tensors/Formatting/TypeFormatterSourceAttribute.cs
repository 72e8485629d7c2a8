namespace LlmCourse.Tensors.Formatting;

/// <summary>
/// How a value of this type shows as a notebook cell's result. The .NET Interactive kernel finds
/// formatters by convention: an attribute with this exact class name, in any assembly, whose
/// <see cref="FormatterSourceType"/> names a class with a <c>CreateTypeFormatters()</c> method, so
/// the course renders in a real notebook without referencing the kernel (the course's runner looks it
/// up the same way). This copy serves the engine's own types (<see cref="Tensor"/>, modules) and any
/// course type best read as text: mark it
/// <c>[TypeFormatterSource(typeof(TextFormatterSource))]</c> and give it a <c>ToString()</c>.
/// Charts and tables use <c>LlmCourse.Charts.View</c>, which carries its own.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = true, Inherited = true)]
public sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
{
    public Type FormatterSourceType { get; } = formatterSourceType;

    /// <summary>
    /// The MIME types the kernel sends for a value, read from here. Text only by default: without it
    /// the kernel would prefer text/html and draw its own property table for the value.
    /// </summary>
    public string[] PreferredMimeTypes { get; set; } = ["text/plain"];
}
