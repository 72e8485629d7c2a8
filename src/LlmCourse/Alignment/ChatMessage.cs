using LlmCourse.Tensors.Formatting;
namespace LlmCourse.Alignment;

/// <summary>Who speaks a turn of a conversation.</summary>
public enum ChatRole { User, Assistant }

/// <summary>One turn of a conversation: <c>new ChatMessage(ChatRole.User, "Spell 'moon'.")</c>.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record ChatMessage(ChatRole Role, string Content)
{
    public static ChatMessage User(string content) => new(ChatRole.User, content);
    public static ChatMessage Assistant(string content) => new(ChatRole.Assistant, content);
}
