using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace LlmCourse.Notebooks.Export;

/// <summary>
/// C# coloured for the exported pages: comments, strings (regular, verbatim, interpolated, raw),
/// characters, numbers, keywords, directives (#r, #load) and type-like names. A lexer, not a parser:
/// it never fails, and whatever it does not recognise is printed as it is.
/// </summary>
public static partial class CSharpHighlighter
{
    static readonly HashSet<string> Keywords =
    [
        "abstract", "as", "async", "await", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class",
        "const", "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit",
        "extern", "false", "finally", "fixed", "float", "for", "foreach", "get", "goto", "if", "implicit", "in", "init",
        "int", "interface", "internal", "is", "lock", "long", "namespace", "new", "not", "null", "object", "operator",
        "or", "and", "out", "override", "params", "private", "protected", "public", "readonly", "record", "ref",
        "required", "return", "sbyte", "sealed", "set", "short", "sizeof", "stackalloc", "static", "string", "struct",
        "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort", "using",
        "var", "virtual", "void", "volatile", "when", "where", "while", "with", "yield", "nameof", "value", "let",
    ];

    [GeneratedRegex("""
        (?<comment>//[^\n]*|/\*[\s\S]*?(\*/|$))
        |(?<directive>^[ \t]*\#(r|load|nullable|pragma|region|endregion|if|else|endif|define)\b[^\n]*)
        |(?<string>\$*"{3,}[\s\S]*?("{3,}|$)|[$@]{0,3}"(\\.|""|[^"\\\n])*"?)
        |(?<char>'(\\.|[^'\\\n])+')
        |(?<number>\b(0x[0-9a-fA-F_]+|0b[01_]+|\d[\d_]*(\.\d+)?([eE][+-]?\d+)?)[fFdDmMuUlL]*\b)
        |(?<word>@?[A-Za-z_][A-Za-z0-9_]*)
        """, RegexOptions.IgnorePatternWhitespace | RegexOptions.Multiline)]
    private static partial Regex Token();

    /// <summary>The code as HTML with &lt;span class="tok-…"&gt; around each coloured token.</summary>
    public static string Highlight(string code)
    {
        var html = new StringBuilder(code.Length * 2);
        var last = 0;
        foreach (Match match in Token().Matches(code))
        {
            html.Append(WebUtility.HtmlEncode(code[last..match.Index]));
            var kind = match.Groups["comment"].Success ? "comment"
                : match.Groups["directive"].Success ? "directive"
                : match.Groups["string"].Success ? "string"
                : match.Groups["char"].Success ? "string"
                : match.Groups["number"].Success ? "number"
                : Keywords.Contains(match.Value) ? "keyword"
                : char.IsUpper(match.Value[0]) ? "type"
                : null;
            var text = WebUtility.HtmlEncode(match.Value);
            html.Append(kind is null ? text : $"<span class=\"tok-{kind}\">{text}</span>");
            last = match.Index + match.Length;
        }
        html.Append(WebUtility.HtmlEncode(code[last..]));
        return html.ToString();
    }
}
