using LlmCourse.Tensors.Formatting;
namespace LlmCourse.Alignment;

/// <summary>
/// One instruction with its exact answer. <see cref="Split"/> is "train", "validation", "test" (the
/// training phrasings, unseen words) or "heldout" (a phrasing never trained on, unseen words);
/// <see cref="Template"/> numbers the phrasing within its task family.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record InstructionExample(string Id, string Task, string Split, int Template, string Prompt, string Answer)
{
    /// <summary>True when the response is the answer, exactly (surrounding spaces and a final full stop forgiven).</summary>
    public bool Verify(string response) => InstructionTasks.Verify(response, Answer);

    public bool HeldOutTemplate => Split == InstructionTasks.HeldOut;

    /// <summary>The example as a two-turn conversation.</summary>
    public IReadOnlyList<ChatMessage> Conversation => [ChatMessage.User(Prompt), ChatMessage.Assistant(Answer)];
}
