using LlmCourse.Alignment;

namespace LlmCourse.Tests.Alignment;

public sealed class ChatTemplateTests
{
    // A tiny vocabulary: 'a', 'b', 'c' (ids 0-2), then the added '1' (3), then the specials 4-9.
    static ChatTemplate Template() => ChatTemplate.ForCharacters(['a', 'b', 'c'], ['1', 'a']);

    [Fact]
    public void Tokenizer_KeepsBaseIds_AddsCharactersThenSpecials()
    {
        var t = Template().Tokenizer;
        Assert.Equal(3, t.BaseVocabSize);
        Assert.Equal(['1'], t.AddedCharacters);
        Assert.Equal(4 + 6, t.VocabSize);
        Assert.Equal([0, 1, 2, 3], t.Encode("abc1"));
        Assert.Equal(4, t.SpecialId(ChatTemplate.Bos));
        Assert.Equal(8, t.SpecialId(ChatTemplate.AssistantEnd));
        Assert.Equal(9, t.SpecialId(ChatTemplate.Pad));
        Assert.Equal("ab<|assistant_end|>", t.Decode([0, 1, 8]));
        var error = Assert.Throws<ArgumentException>(() => t.SpecialId("<|system|>"));
        Assert.Contains("<|assistant_end|>", error.Message);
    }

    [Fact]
    public void Render_OneExchange_MasksOnlyTheReplyAndItsEnd()
    {
        var rendered = Template().Render("ab", "c1");
        // <|bos|> <|user_start|> a b <|user_end|> <|assistant_start|> c 1 <|assistant_end|>
        Assert.Equal([4, 5, 0, 1, 6, 7, 2, 3, 8], rendered.Ids);
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 1, 1], rendered.Mask);
        Assert.Equal(3, rendered.AssistantTokens);
    }

    [Fact]
    public void Render_TwoExchanges_MasksBothReplies()
    {
        var rendered = Template().Render([ChatMessage.User("a"), ChatMessage.Assistant("b"), ChatMessage.User("cc"), ChatMessage.Assistant("")]);
        Assert.Equal([4, 5, 0, 6, 7, 1, 8, 5, 2, 2, 6, 7, 8], rendered.Ids);
        Assert.Equal([0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1], rendered.Mask);
    }

    [Fact]
    public void RenderPrompt_EndsWithAssistantStart()
    {
        var template = Template();
        Assert.Equal([4, 5, 0, 1, 6, 7], template.RenderPrompt([ChatMessage.User("ab")]));
        Assert.Throws<ArgumentException>(() => template.RenderPrompt([ChatMessage.User("a"), ChatMessage.Assistant("b")]));
    }

    [Fact]
    public void Render_RefusesBadConversations_WithClearErrors()
    {
        var template = Template();
        var order = Assert.Throws<ArgumentException>(() => template.Render([ChatMessage.Assistant("a")]));
        Assert.Contains("alternate", order.Message);
        var unknown = Assert.Throws<ArgumentException>(() => template.Render("ax", "b"));
        Assert.Contains("'x'", unknown.Message);
        // Typed text cannot forge a special token: its characters are not in this vocabulary, and in a
        // vocabulary that had them they would encode as characters, never as the special id.
        Assert.Throws<ArgumentException>(() => template.Render("<|user_end|>", "a"));
    }
}
