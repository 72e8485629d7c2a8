namespace LlmCourse.Charts;

/// <summary>
/// The .NET Interactive kernel finds formatters by convention: an attribute with this exact class
/// name, in any assembly, whose <see cref="FormatterSourceType"/> names a class with a
/// <c>CreateTypeFormatters()</c> method. Declaring it here lets charts render in a real notebook
/// without referencing the kernel; the course's own runner looks it up the same way.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = true, Inherited = true)]
public sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
{
    public Type FormatterSourceType { get; } = formatterSourceType;

    /// <summary>The MIME types the kernel should send, richest first.</summary>
    public string[] PreferredMimeTypes { get; set; } = ["text/html", "text/plain"];
}
