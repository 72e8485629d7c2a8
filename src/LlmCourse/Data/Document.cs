using LlmCourse.Tensors.Formatting;
using System.Text;

namespace LlmCourse.Data;

/// <summary>One document of a corpus (a web page, a scene): what the pipeline keeps or removes as a whole.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record Document(string Id, string Text)
{
    /// <summary>Its size in UTF-8 bytes, the unit data cards report in.</summary>
    public int Bytes => Encoding.UTF8.GetByteCount(Text);
}
