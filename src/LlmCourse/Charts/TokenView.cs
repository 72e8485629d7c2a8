using System.Globalization;
using System.Net;
using System.Text;

namespace LlmCourse.Charts;

/// <summary>
/// Text as a tokenizer cut it: each token a coloured span (neighbours differ), its id on hover, so
/// a student sees where BPE put the boundaries, that " the" carries its space, and how many tokens a
/// text costs. Newlines show as ↵ and still break the line.
/// </summary>
/// <example><code>
/// new TokenView(tokenizer.Encode(text).Select(tokenizer.Decode), ids, title: "GPT-2 BPE")
/// </code></example>
public sealed class TokenView : View
{
    public TokenView(IEnumerable<string> tokens, IEnumerable<int>? ids = null, string? title = null)
    {
        Tokens = tokens.ToArray();
        Ids = ids?.ToArray();
        if (Ids is not null && Ids.Count != Tokens.Count)
            throw new ArgumentException($"TokenView: {Tokens.Count} tokens but {Ids.Count} ids.");
        Title = title;
    }

    public IReadOnlyList<string> Tokens { get; }
    public IReadOnlyList<int>? Ids { get; }
    public string? Title { get; }

    /// <summary>Print each token's id under it.</summary>
    public bool ShowIds { get; set; }

    public int CharacterCount => Tokens.Sum(t => t.Length);

    public override string ToHtml()
    {
        var html = new StringBuilder();
        html.Append("<div class=\"llmcourse-tokens\" style=\"font-family:").Append(Svg.FontFamily).Append(";max-width:100%\">");
        html.Append("<div style=\"font-size:13px;color:#555;margin-bottom:6px\">")
            .Append(Title is null ? "" : $"<b>{WebUtility.HtmlEncode(Title)}</b> · ")
            .Append(WebUtility.HtmlEncode(Summary())).Append("</div>");
        html.Append("<div style=\"font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:15px;")
            .Append("line-height:").Append(ShowIds ? "2.6" : "1.9").Append(";white-space:pre-wrap;word-break:break-all;color:#222\">");
        for (var i = 0; i < Tokens.Count; i++)
        {
            var token = Tokens[i];
            var tip = (Ids is null ? "" : $"id {Ids[i]} · ") + $"\"{token.Replace("\n", "\\n").Replace("\t", "\\t")}\" · {token.Length} char{(token.Length == 1 ? "" : "s")}";
            html.Append("<span title=\"").Append(WebUtility.HtmlEncode(tip)).Append("\" style=\"background:")
                .Append(Palette.Tokens[i % Palette.Tokens.Length])
                .Append(";border-radius:3px;padding:2px 0;margin-right:1px")
                .Append(ShowIds ? ";display:inline-block;text-align:center;vertical-align:top" : "").Append("\">")
                .Append(WebUtility.HtmlEncode(Visible(token)));
            if (ShowIds && Ids is not null)
                html.Append("<br><span style=\"font-size:10px;color:#666\">").Append(Ids[i].ToString(CultureInfo.InvariantCulture)).Append("</span>");
            html.Append("</span>");
        }
        return html.Append("</div></div>").ToString();
    }

    string Summary()
    {
        var ratio = Tokens.Count == 0 ? 0 : (double)CharacterCount / Tokens.Count;
        return $"{Tokens.Count} tokens · {CharacterCount} characters · {ratio.ToString("0.00", CultureInfo.InvariantCulture)} characters per token";
    }

    /// <summary>Newlines drawn as ↵ (and kept, so the line still breaks), tabs as ⇥.</summary>
    static string Visible(string token) => token.Replace("\r", "").Replace("\n", "↵\n").Replace("\t", "⇥");

    /// <summary>"The| cat| sat↵" and the counts.</summary>
    public override string ToString() =>
        $"{(Title is null ? "" : Title + ": ")}{Summary()}{Environment.NewLine}" +
        string.Join("|", Tokens.Select(t => t.Replace("\n", "↵").Replace("\t", "⇥")));
}
