using LlmCourse.Tensors.Formatting;
using LlmCourse.Tokenizers;

namespace LlmCourse.Alignment;

/// <summary>
/// A conversation rendered to token ids, with the loss mask: <c>Mask[i]</c> is 1 where token i is
/// written by the assistant (its reply and its <c>&lt;|assistant_end|&gt;</c>), 0 elsewhere (the
/// <c>&lt;|bos|&gt;</c>, the user's turns, the markers around them and <c>&lt;|assistant_start|&gt;</c>).
/// Training predicts token i from the tokens before it, so token i's mask decides whether
/// predicting it counts in the loss.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record RenderedConversation(int[] Ids, int[] Mask)
{
    public int Length => Ids.Length;

    /// <summary>How many tokens the loss learns from.</summary>
    public int AssistantTokens => Mask.Sum();
}

/// <summary>
/// The chat template, after nanochat (Karpathy 2025): a conversation is one token sequence
/// <code>&lt;|bos|&gt;&lt;|user_start|&gt;Spell 'moon'.&lt;|user_end|&gt;&lt;|assistant_start|&gt;m-o-o-n&lt;|assistant_end|&gt;&lt;|user_start|&gt;…</code>
/// Special tokens mark the turns, so the model learns where an answer starts (the prompt ends in
/// <c>&lt;|assistant_start|&gt;</c>) and, by predicting <c>&lt;|assistant_end|&gt;</c>, where it stops: generation
/// halts there. They are single ids that no typed text can produce (<see cref="ChatTokenizer"/>).
/// <c>&lt;|pad|&gt;</c> fills batches out to the same length and is never learned.
/// </summary>
public sealed class ChatTemplate
{
    public const string Bos = "<|bos|>";
    public const string UserStart = "<|user_start|>";
    public const string UserEnd = "<|user_end|>";
    public const string AssistantStart = "<|assistant_start|>";
    public const string AssistantEnd = "<|assistant_end|>";
    public const string Pad = "<|pad|>";

    /// <summary>The special tokens, in the order their ids follow the characters.</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } = [Bos, UserStart, UserEnd, AssistantStart, AssistantEnd, Pad];

    public ChatTemplate(ChatTokenizer tokenizer)
    {
        Tokenizer = tokenizer;
        BosId = tokenizer.SpecialId(Bos);
        UserStartId = tokenizer.SpecialId(UserStart);
        UserEndId = tokenizer.SpecialId(UserEnd);
        AssistantStartId = tokenizer.SpecialId(AssistantStart);
        AssistantEndId = tokenizer.SpecialId(AssistantEnd);
        PadId = tokenizer.SpecialId(Pad);
    }

    /// <summary>A pretrained character vocabulary grown by the characters <paramref name="extraCharacters"/> and the special tokens.</summary>
    public static ChatTemplate ForCharacters(IReadOnlyList<char> baseVocabulary, IEnumerable<char> extraCharacters) =>
        new(new ChatTokenizer(baseVocabulary, extraCharacters, SpecialTokens));

    public ChatTokenizer Tokenizer { get; }
    public int BosId { get; }
    public int UserStartId { get; }
    public int UserEndId { get; }
    public int AssistantStartId { get; }
    public int AssistantEndId { get; }
    public int PadId { get; }

    /// <summary>
    /// A whole conversation (user and assistant alternating, starting with the user) to ids and the
    /// assistant mask. A conversation that ends with a user turn renders without a reply; use
    /// <see cref="RenderPrompt"/> to ask for one.
    /// </summary>
    public RenderedConversation Render(IReadOnlyList<ChatMessage> conversation)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        if (conversation.Count == 0) throw new ArgumentException("ChatTemplate.Render: the conversation is empty.", nameof(conversation));
        var ids = new List<int>();
        var mask = new List<int>();
        void Add(int id, int learned) { ids.Add(id); mask.Add(learned); }

        Add(BosId, 0);
        for (var turn = 0; turn < conversation.Count; turn++)
        {
            var message = conversation[turn];
            var expected = turn % 2 == 0 ? ChatRole.User : ChatRole.Assistant;
            if (message.Role != expected)
                throw new ArgumentException(
                    $"ChatTemplate.Render: turn {turn + 1} is from the {message.Role}, but turns alternate user, assistant, user, … starting with the user.",
                    nameof(conversation));
            var content = Encode(message.Content, turn);
            if (message.Role == ChatRole.User)
            {
                Add(UserStartId, 0);
                foreach (var id in content) Add(id, 0);
                Add(UserEndId, 0);
            }
            else
            {
                Add(AssistantStartId, 0);   // given: the prompt ends with it
                foreach (var id in content) Add(id, 1);
                Add(AssistantEndId, 1);     // learned, so the model learns to stop
            }
        }
        return new RenderedConversation(ids.ToArray(), mask.ToArray());
    }

    /// <summary>
    /// The ids that ask for the next reply: the conversation so far (ending with a user turn)
    /// followed by <c>&lt;|assistant_start|&gt;</c>.
    /// </summary>
    public int[] RenderPrompt(IReadOnlyList<ChatMessage> conversation)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        if (conversation.Count == 0 || conversation[^1].Role != ChatRole.User)
            throw new ArgumentException("ChatTemplate.RenderPrompt: the conversation must end with a user turn to be answered.", nameof(conversation));
        return [.. Render(conversation).Ids, AssistantStartId];
    }

    /// <summary>One prompt and its answer, the shape of every instruction example.</summary>
    public RenderedConversation Render(string prompt, string answer) =>
        Render([ChatMessage.User(prompt), ChatMessage.Assistant(answer)]);

    /// <summary>The ids as the readable pieces they stand for (special tokens by name).</summary>
    public string[] Pieces(IEnumerable<int> ids) => ids.Select(Tokenizer.TokenText).ToArray();

    int[] Encode(string text, int turn)
    {
        for (var i = 0; i < text.Length; i++)
            if (!Tokenizer.Characters.Contains(text[i]))
                throw new ArgumentException(
                    $"ChatTemplate: turn {turn + 1} has the character {Describe(text[i])} at position {i}, which the model's vocabulary of {Tokenizer.Characters.Count} characters lacks; " +
                    "grow the tokenizer with it (ChatTemplate.ForCharacters(..., extraCharacters)) or leave it out.");
        return Tokenizer.Encode(text);
    }

    static string Describe(char c) => char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}'";
}
