using System.Net;
using System.Text;
using LlmCourse.Charts;

namespace LlmCourse.Alignment;

/// <summary>
/// A rendered conversation as coloured tokens: green where the token is a target the loss learns
/// (mask 1: the assistant's reply and its end token), grey where it is only context (mask 0).
/// Special tokens show by name, in bold. <c>new LossMaskView(template, template.Render(prompt, answer))</c>
/// </summary>
public sealed class LossMaskView(IReadOnlyList<string> pieces, IReadOnlyList<int> mask, IReadOnlyList<bool> special, string? title = null) : View
{
    public LossMaskView(ChatTemplate template, RenderedConversation conversation, string? title = null)
        : this(template.Pieces(conversation.Ids), conversation.Mask, conversation.Ids.Select(template.Tokenizer.IsSpecial).ToArray(), title) { }

    public const string LearnedColor = "#b9e4c0";
    public const string ContextColor = "#e4e4e4";

    public IReadOnlyList<string> Pieces { get; } = pieces.Count == mask.Count && mask.Count == special.Count ? pieces
        : throw new ArgumentException($"LossMaskView: {pieces.Count} pieces, {mask.Count} mask values and {special.Count} special flags must be as many.");
    public IReadOnlyList<int> Mask { get; } = mask;
    public string? Title { get; } = title;

    public override string ToHtml()
    {
        var html = new StringBuilder();
        html.Append("<div class=\"llmcourse-lossmask\" style=\"font-family:").Append(Svg.FontFamily).Append("\">");
        html.Append("<div style=\"font-size:13px;color:#555;margin-bottom:6px\">")
            .Append(Title is null ? "" : $"<b>{WebUtility.HtmlEncode(Title)}</b> · ")
            .Append($"{Pieces.Count} tokens, {Mask.Sum()} learned (<span style=\"background:{LearnedColor};padding:0 4px\">green</span>), ")
            .Append($"{Pieces.Count - Mask.Sum()} context only (<span style=\"background:{ContextColor};padding:0 4px\">grey</span>)</div>");
        html.Append("<div style=\"font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:15px;line-height:2;white-space:pre-wrap;word-break:break-all\">");
        for (var i = 0; i < Pieces.Count; i++)
        {
            html.Append("<span title=\"position ").Append(i).Append(", mask ").Append(Mask[i]).Append("\" style=\"background:")
                .Append(Mask[i] == 1 ? LearnedColor : ContextColor).Append(";padding:2px 0;margin-right:1px;border-radius:3px")
                .Append(special[i] ? ";font-weight:700;font-size:11px;color:#333" : "").Append("\">")
                .Append(WebUtility.HtmlEncode(Pieces[i].Replace("\n", "↵"))).Append("</span>");
        }
        return html.Append("</div></div>").ToString();
    }

    /// <summary>The learned tokens in [brackets]: <c>&lt;|bos|&gt;…&lt;|assistant_start|&gt;[m][-][o]…</c>.</summary>
    public override string ToString() =>
        (Title is null ? "" : Title + ": ") + string.Concat(Pieces.Select((p, i) => Mask[i] == 1 ? $"[{p}]" : p));
}
