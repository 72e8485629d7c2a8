using System.Net;
using System.Text;

namespace LlmCourse.Notebooks.Export;

/// <summary>
/// The LaTeX that lecture notes use (fractions, scripts, sums, roots, Greek, accents, \mathbb,
/// \text, \left…\right, matrices and cases) turned into MathML, which every current browser draws
/// natively: the exported page needs no script, font or network to show its equations, unlike KaTeX
/// or MathJax. Anything outside that subset throws <see cref="NotSupportedException"/>, and the
/// caller shows the TeX source instead, in a styled span, so nothing is ever lost.
/// </summary>
public static class TexToMathMl
{
    /// <summary>A &lt;math&gt; element, or the TeX source in &lt;code class="tex"&gt; when it cannot be converted.</summary>
    public static string ConvertOrKeep(string tex, bool display)
    {
        try { return Convert(tex, display); }
        catch (NotSupportedException)
        {
            var delimiter = display ? "$$" : "$";
            return $"<code class=\"tex\" title=\"TeX\">{WebUtility.HtmlEncode(delimiter + tex + delimiter)}</code>";
        }
    }

    public static string Convert(string tex, bool display)
    {
        var parser = new Parser(tex, display);
        var body = parser.ParseAll();
        return $"<math xmlns=\"http://www.w3.org/1998/Math/MathML\"{(display ? " display=\"block\"" : "")}>" +
               $"<semantics><mrow>{body}</mrow><annotation encoding=\"application/x-tex\">{WebUtility.HtmlEncode(tex.Trim())}</annotation></semantics></math>";
    }

    static readonly Dictionary<string, string> Identifiers = new()
    {
        ["alpha"] = "α", ["beta"] = "β", ["gamma"] = "γ", ["delta"] = "δ", ["epsilon"] = "ϵ", ["varepsilon"] = "ε",
        ["zeta"] = "ζ", ["eta"] = "η", ["theta"] = "θ", ["vartheta"] = "ϑ", ["iota"] = "ι", ["kappa"] = "κ",
        ["lambda"] = "λ", ["mu"] = "μ", ["nu"] = "ν", ["xi"] = "ξ", ["pi"] = "π", ["rho"] = "ρ", ["sigma"] = "σ",
        ["tau"] = "τ", ["upsilon"] = "υ", ["phi"] = "ϕ", ["varphi"] = "φ", ["chi"] = "χ", ["psi"] = "ψ", ["omega"] = "ω",
        ["Gamma"] = "Γ", ["Delta"] = "Δ", ["Theta"] = "Θ", ["Lambda"] = "Λ", ["Xi"] = "Ξ", ["Pi"] = "Π",
        ["Sigma"] = "Σ", ["Phi"] = "Φ", ["Psi"] = "Ψ", ["Omega"] = "Ω", ["ell"] = "ℓ", ["infty"] = "∞",
        ["partial"] = "∂", ["nabla"] = "∇", ["emptyset"] = "∅", ["hbar"] = "ℏ",
    };

    static readonly Dictionary<string, string> Operators = new()
    {
        ["cdot"] = "⋅", ["times"] = "×", ["div"] = "÷", ["pm"] = "±", ["mp"] = "∓", ["le"] = "≤", ["leq"] = "≤",
        ["ge"] = "≥", ["geq"] = "≥", ["ne"] = "≠", ["neq"] = "≠", ["approx"] = "≈", ["sim"] = "∼", ["simeq"] = "≃",
        ["propto"] = "∝", ["equiv"] = "≡", ["in"] = "∈", ["ni"] = "∋", ["notin"] = "∉", ["leftrightarrow"] = "↔", ["uparrow"] = "↑", ["downarrow"] = "↓", ["approxeq"] = "≊", ["subset"] = "⊂", ["subseteq"] = "⊆",
        ["cup"] = "∪", ["cap"] = "∩", ["to"] = "→", ["rightarrow"] = "→", ["leftarrow"] = "←", ["gets"] = "←",
        ["Rightarrow"] = "⇒", ["Leftarrow"] = "⇐", ["iff"] = "⇔", ["mapsto"] = "↦", ["odot"] = "⊙", ["otimes"] = "⊗",
        ["oplus"] = "⊕", ["circ"] = "∘", ["top"] = "⊤", ["forall"] = "∀", ["exists"] = "∃", ["mid"] = "∣",
        ["ldots"] = "…", ["dots"] = "…", ["cdots"] = "⋯", ["vdots"] = "⋮", ["ddots"] = "⋱", ["lVert"] = "‖",
        ["rVert"] = "‖", ["|"] = "‖", ["langle"] = "⟨", ["rangle"] = "⟩", ["lfloor"] = "⌊", ["rfloor"] = "⌋",
        ["lceil"] = "⌈", ["rceil"] = "⌉", ["colon"] = ":", ["prime"] = "′", ["star"] = "⋆", ["ast"] = "∗",
        ["gg"] = "≫", ["ll"] = "≪", ["land"] = "∧", ["lor"] = "∨", ["neg"] = "¬", ["{"] = "{", ["}"] = "}",
        ["lbrace"] = "{", ["rbrace"] = "}", ["vert"] = "|", ["setminus"] = "∖", ["bullet"] = "∙",
    };

    static readonly Dictionary<string, string> LargeOperators = new()
    {
        ["sum"] = "∑", ["prod"] = "∏", ["int"] = "∫", ["oint"] = "∮", ["bigcup"] = "⋃", ["bigcap"] = "⋂",
    };

    static readonly HashSet<string> Functions =
    [
        "log", "ln", "exp", "sin", "cos", "tan", "tanh", "sinh", "cosh", "max", "min", "arg", "det", "lim", "sup",
        "inf", "Pr", "dim", "ker", "deg", "gcd", "sgn",
    ];

    /// <summary>Functions whose scripts go under and over them in display math (\max_x, \lim_{n\to\infty}).</summary>
    static readonly HashSet<string> LimitFunctions = ["max", "min", "lim", "sup", "inf", "arg", "argmax", "argmin"];

    static readonly Dictionary<string, string> Spaces = new()
    {
        [","] = "0.1667em", [":"] = "0.2222em", [">"] = "0.2222em", [";"] = "0.2778em", ["!"] = "-0.1667em",
        ["quad"] = "1em", ["qquad"] = "2em", [" "] = "0.25em", ["enspace"] = "0.5em",
    };

    static readonly Dictionary<string, string> Accents = new()
    {
        ["hat"] = "^", ["widehat"] = "^", ["bar"] = "¯", ["overline"] = "¯", ["tilde"] = "~", ["widetilde"] = "~",
        ["vec"] = "→", ["dot"] = "˙", ["ddot"] = "¨",
    };

    static readonly Dictionary<string, string> Variants = new()
    {
        ["mathbb"] = "double-struck", ["mathbf"] = "bold", ["boldsymbol"] = "bold-italic", ["bm"] = "bold-italic",
        ["mathcal"] = "script", ["mathrm"] = "normal", ["mathit"] = "italic", ["mathsf"] = "sans-serif",
        ["mathtt"] = "monospace",
    };

    static readonly Dictionary<string, (string Open, string Close)> Matrices = new()
    {
        ["matrix"] = ("", ""), ["pmatrix"] = ("(", ")"), ["bmatrix"] = ("[", "]"), ["Bmatrix"] = ("{", "}"),
        ["vmatrix"] = ("|", "|"), ["Vmatrix"] = ("‖", "‖"), ["cases"] = ("{", ""), ["aligned"] = ("", ""),
        ["align"] = ("", ""), ["align*"] = ("", ""), ["array"] = ("", ""), ["gathered"] = ("", ""),
    };

    sealed class Parser(string tex, bool display)
    {
        int position;

        public string ParseAll()
        {
            var body = ParseSequence(out var stop);
            if (stop is not null) throw new NotSupportedException($"unexpected {stop}");
            return body;
        }

        /// <summary>Atoms until the end, '}', '&amp;', '\\', \right or \end; <paramref name="stop"/> says which.</summary>
        string ParseSequence(out string? stop)
        {
            var items = new StringBuilder();
            while (true)
            {
                SkipWhitespace();
                if (position >= tex.Length) { stop = null; return items.ToString(); }
                var c = tex[position];
                if (c == '}') { stop = "}"; return items.ToString(); }
                if (c == '&') { stop = "&"; return items.ToString(); }
                if (Peek(@"\\")) { stop = @"\\"; return items.ToString(); }
                if (PeekCommand("right")) { stop = "right"; return items.ToString(); }
                if (PeekCommand("end")) { stop = "end"; return items.ToString(); }
                items.Append(ParseScripted());
            }
        }

        string ParseScripted()
        {
            var (atom, limits) = ParseAtom();
            string? sub = null, sup = null;
            while (true)
            {
                SkipWhitespace();
                if (position < tex.Length && tex[position] == '_' && sub is null) { position++; sub = Argument(); }
                else if (position < tex.Length && tex[position] == '^' && sup is null) { position++; sup = Argument(); }
                else if (position < tex.Length && tex[position] == '\'') { position++; sup = (sup ?? "") + "<mo>′</mo>"; }
                else break;
            }
            if (sub is null && sup is null) return atom;
            // A function's scripts belong to its name, before the (invisible) function application.
            var suffix = "";
            if (atom.EndsWith(FunctionApplication, StringComparison.Ordinal))
            {
                atom = atom[..^FunctionApplication.Length];
                suffix = FunctionApplication;
            }
            if (!IsOneElement(atom)) atom = Row(atom);
            return Scripts(atom, sub, sup, limits) + suffix;
        }

        const string FunctionApplication = "<mo>&#x2061;</mo>";

        static bool IsOneElement(string markup)
        {
            if (!markup.StartsWith('<')) return false;
            var nameEnd = markup.IndexOfAny([' ', '>', '/'], 1);
            var name = markup[1..nameEnd];
            return markup.EndsWith($"</{name}>", StringComparison.Ordinal) && markup.IndexOf($"<{name}", 1, StringComparison.Ordinal) < 0;
        }

        string Scripts(string atom, string? sub, string? sup, bool limits)
        {
            if (limits && display)
                return sub is null ? $"<mover>{atom}{Row(sup!)}</mover>"
                    : sup is null ? $"<munder>{atom}{Row(sub)}</munder>"
                    : $"<munderover>{atom}{Row(sub)}{Row(sup)}</munderover>";
            return sub is null ? $"<msup>{atom}{Row(sup!)}</msup>"
                : sup is null ? $"<msub>{atom}{Row(sub)}</msub>"
                : $"<msubsup>{atom}{Row(sub)}{Row(sup)}</msubsup>";
        }

        static string Row(string content) => $"<mrow>{content}</mrow>";

        /// <summary>One argument: a {group}, a command, or a single character.</summary>
        string Argument()
        {
            SkipWhitespace();
            if (position >= tex.Length) throw new NotSupportedException("missing argument");
            if (tex[position] == '{') return Group();
            return ParseAtom().Markup;
        }

        string Group()
        {
            Expect('{');
            var body = ParseSequence(out var stop);
            if (stop != "}") throw new NotSupportedException("unclosed {");
            position++;
            return body;
        }

        string RawGroup()
        {
            SkipWhitespace();
            Expect('{');
            var start = position;
            var depth = 1;
            while (position < tex.Length && depth > 0)
            {
                if (tex[position] == '{') depth++;
                else if (tex[position] == '}') depth--;
                position++;
            }
            if (depth != 0) throw new NotSupportedException("unclosed {");
            return tex[start..(position - 1)];
        }

        (string Markup, bool Limits) ParseAtom()
        {
            var c = tex[position];
            if (c == '{') return (Row(Group()), false);
            if (c == '\\') return Command();
            position++;
            if (char.IsDigit(c) || (c == '.' && position < tex.Length && char.IsDigit(tex[position])))
            {
                var start = position - 1;
                while (position < tex.Length && (char.IsDigit(tex[position]) || (tex[position] == '.' && position + 1 < tex.Length && char.IsDigit(tex[position + 1]))))
                    position++;
                return ($"<mn>{tex[start..position]}</mn>", false);
            }
            if (char.IsLetter(c)) return ($"<mi>{Encode(c.ToString())}</mi>", false);
            if (c is '^' or '_') throw new NotSupportedException("script without a base");
            var op = c switch { '-' => "−", '*' => "∗", _ => c.ToString() };
            var stretchy = c is '(' or ')' or '[' or ']' or '|' ? " stretchy=\"false\"" : "";
            return ($"<mo{stretchy}>{Encode(op)}</mo>", false);
        }

        (string Markup, bool Limits) Command()
        {
            position++; // the backslash
            if (position >= tex.Length) throw new NotSupportedException("lone backslash");
            string name;
            if (char.IsLetter(tex[position]))
            {
                var start = position;
                while (position < tex.Length && char.IsLetter(tex[position])) position++;
                name = tex[start..position];
                if (position < tex.Length && tex[position] == '*') { name += "*"; position++; }
            }
            else name = tex[position++].ToString();

            if (Identifiers.TryGetValue(name, out var identifier))
                return ($"<mi{(char.IsUpper(identifier[0]) || name is "infty" or "partial" or "nabla" ? " mathvariant=\"normal\"" : "")}>{identifier}</mi>", false);
            if (Operators.TryGetValue(name, out var op)) return ($"<mo>{Encode(op)}</mo>", false);
            if (LargeOperators.TryGetValue(name, out var large)) return ($"<mo largeop=\"true\" movablelimits=\"true\">{large}</mo>", true);
            if (Functions.Contains(name)) return ($"<mi>{name}</mi>{FunctionApplication}", LimitFunctions.Contains(name));
            if (Spaces.TryGetValue(name, out var space)) return ($"<mspace width=\"{space}\"/>", false);
            if (Accents.TryGetValue(name, out var accent))
                return ($"<mover accent=\"true\"><mrow>{Argument()}</mrow><mo stretchy=\"{(name.StartsWith("wide", StringComparison.Ordinal) || name == "overline" ? "true" : "false")}\">{Encode(accent)}</mo></mover>", false);
            if (Variants.TryGetValue(name, out var variant))
                return ($"<mstyle mathvariant=\"{variant}\">{Variant(RawGroupOrChar(), variant)}</mstyle>", false);

            switch (name)
            {
                case "frac" or "dfrac" or "tfrac":
                    return ($"<mfrac><mrow>{Argument()}</mrow><mrow>{Argument()}</mrow></mfrac>", false);
                case "sqrt":
                    SkipWhitespace();
                    if (position < tex.Length && tex[position] == '[')
                    {
                        var close = tex.IndexOf(']', position);
                        if (close < 0) throw new NotSupportedException("unclosed [");
                        var index = new Parser(tex[(position + 1)..close], display).ParseAll();
                        position = close + 1;
                        return ($"<mroot><mrow>{Argument()}</mrow><mrow>{index}</mrow></mroot>", false);
                    }
                    return ($"<msqrt><mrow>{Argument()}</mrow></msqrt>", false);
                case "text" or "textrm" or "textit" or "textbf" or "mbox":
                    return ($"<mtext>{Encode(RawGroup())}</mtext>", false);
                case "operatorname" or "operatorname*":
                    var function = RawGroup();
                    return ($"<mi>{Encode(function)}</mi>{FunctionApplication}", name.EndsWith('*') || LimitFunctions.Contains(function));
                case "argmax" or "argmin":
                    return ($"<mi>{(name == "argmax" ? "arg max" : "arg min")}</mi>{FunctionApplication}", true);
                case "left":
                    return (LeftRight(), false);
                case "begin":
                    return (Environment(), false);
                case "big" or "Big" or "bigg" or "Bigg" or "bigl" or "bigr" or "Bigl" or "Bigr" or "displaystyle" or "textstyle" or "limits" or "nolimits":
                    return ("", false);
                case "underbrace" or "overbrace":
                    var braced = Argument();
                    return ($"<{(name == "underbrace" ? "munder" : "mover")}><mrow>{braced}</mrow><mo stretchy=\"true\">{(name == "underbrace" ? "⏟" : "⏞")}</mo></{(name == "underbrace" ? "munder" : "mover")}>", true);
                case "%" or "$" or "#" or "_" or "&":
                    return ($"<mo>{Encode(name)}</mo>", false);
                default:
                    throw new NotSupportedException($"\\{name}");
            }
        }

        string RawGroupOrChar()
        {
            SkipWhitespace();
            if (position < tex.Length && tex[position] == '{') return RawGroup();
            if (position >= tex.Length) throw new NotSupportedException("missing argument");
            return tex[position++].ToString();
        }

        string Variant(string content, string variant)
        {
            // \mathbb{R}, \mathbf{x}: letters become one identifier each, in the variant's face.
            var inner = new Parser(content, display).ParseAll();
            return variant == "normal" && content.All(char.IsLetter) ? $"<mi mathvariant=\"normal\">{Encode(content)}</mi>" : inner;
        }

        string LeftRight()
        {
            var open = Delimiter();
            var body = ParseSequence(out var stop);
            if (stop != "right") throw new NotSupportedException("\\left without \\right");
            position += "\\right".Length;
            var close = Delimiter();
            return $"<mrow>{Fence(open)}{body}{Fence(close)}</mrow>";
        }

        static string Fence(string delimiter) =>
            delimiter.Length == 0 ? "" : $"<mo fence=\"true\" stretchy=\"true\">{Encode(delimiter)}</mo>";

        string Delimiter()
        {
            SkipWhitespace();
            if (position >= tex.Length) throw new NotSupportedException("missing delimiter");
            if (tex[position] == '.') { position++; return ""; }
            if (tex[position] != '\\') return tex[position++].ToString();
            var (markup, _) = Command();
            var start = markup.IndexOf('>') + 1;
            return WebUtility.HtmlDecode(markup[start..markup.IndexOf('<', start)]);
        }

        string Environment()
        {
            var name = RawGroup();
            if (!Matrices.TryGetValue(name, out var fences)) throw new NotSupportedException($"\\begin{{{name}}}");
            if (name == "array") RawGroup(); // column spec: alignment only
            var rows = new List<List<string>>();
            var row = new List<string>();
            while (true)
            {
                var cell = ParseSequence(out var stop);
                row.Add(cell);
                if (stop == "&") { position++; continue; }
                if (stop == @"\\") { position += 2; rows.Add(row); row = []; continue; }
                if (stop == "end")
                {
                    position += "\\end".Length;
                    if (RawGroup() != name) throw new NotSupportedException($"\\begin{{{name}}} closed by another \\end");
                    if (row.Count > 1 || row[0].Length > 0) rows.Add(row);
                    break;
                }
                throw new NotSupportedException($"\\begin{{{name}}} is not closed");
            }
            var aligned = name is "aligned" or "align" or "align*" or "cases";
            var table = new StringBuilder($"<mtable{(aligned ? " columnalign=\"right left\" columnspacing=\"0.3em\"" : "")}>");
            foreach (var r in rows)
                table.Append("<mtr>").Append(string.Concat(r.Select(c => $"<mtd><mrow>{c}</mrow></mtd>"))).Append("</mtr>");
            table.Append("</mtable>");
            return $"<mrow>{Fence(fences.Open)}{table}{Fence(fences.Close)}</mrow>";
        }

        void Expect(char c)
        {
            if (position >= tex.Length || tex[position] != c) throw new NotSupportedException($"expected '{c}'");
            position++;
        }

        bool Peek(string s) => string.CompareOrdinal(tex, position, s, 0, s.Length) == 0;

        bool PeekCommand(string name) =>
            Peek("\\" + name) && (position + 1 + name.Length >= tex.Length || !char.IsLetter(tex[position + 1 + name.Length]));

        void SkipWhitespace()
        {
            while (position < tex.Length && char.IsWhiteSpace(tex[position])) position++;
        }
    }

    static string Encode(string text) => WebUtility.HtmlEncode(text);
}
