namespace LlmCourse.Notebooks.Export;

/// <summary>The style sheets of the exported pages, inline so each page is one self-contained file.</summary>
static class ExportStyles
{
    /// <summary>The start of a page: doctype, encoding, viewport, title and the inline style sheet.</summary>
    public static string Head(string title, string css) =>
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" +
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
        $"<title>{System.Net.WebUtility.HtmlEncode(title)}</title><style>{css}</style></head>\n";

    public const string Page = """
        :root { --ink: #1f2328; --muted: #656d76; --line: #d0d7de; --code-bg: #f6f8fa; --accent: #4e79a7; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--ink); background: #fff; font: 17px/1.6 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
        main { max-width: 980px; margin: 0 auto; padding: 32px 24px 96px; }
        header.meta { color: var(--muted); font-size: 14px; border-bottom: 1px solid var(--line); padding-bottom: 8px; margin-bottom: 16px; }
        nav.toc { font-size: 15px; background: var(--code-bg); border-radius: 6px; padding: 8px 16px; margin-bottom: 24px; }
        nav.toc ol { margin: 4px 0; padding-left: 20px; }
        h1, h2, h3 { line-height: 1.25; margin: 1.4em 0 0.5em; }
        h1 { font-size: 2em; } h2 { font-size: 1.5em; border-bottom: 1px solid var(--line); padding-bottom: .2em; }
        a { color: var(--accent); }
        table { border-collapse: collapse; margin: 12px 0; }
        th, td { border: 1px solid var(--line); padding: 4px 10px; }
        blockquote { margin: 0; padding: 0 1em; color: var(--muted); border-left: 4px solid var(--line); }
        img { max-width: 100%; }
        code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 14px; }
        :not(pre) > code { background: var(--code-bg); padding: .1em .35em; border-radius: 4px; }
        code.tex { color: #6f42c1; }
        .math-block { overflow-x: auto; margin: 12px 0; }
        math[display="block"] { font-size: 1.1em; }
        .cell { margin: 14px 0; }
        .cell.code .input { display: flex; gap: 8px; }
        .prompt { color: var(--muted); font: 12px/1.9 ui-monospace, Menlo, Consolas, monospace; min-width: 56px; text-align: right; padding-top: 8px; user-select: none; }
        .source { flex: 1; min-width: 0; margin: 0; background: var(--code-bg); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow-x: auto; }
        .outputs { margin-left: 64px; }
        .output { margin: 6px 0; overflow-x: auto; }
        pre.output { white-space: pre-wrap; word-break: break-word; margin: 6px 0; padding: 6px 10px; border-left: 3px solid var(--line); }
        pre.stderr { background: #fff8e6; border-left-color: #d4a72c; }
        pre.error { background: #ffebe9; border-left-color: #cf222e; color: #82071e; }
        .output.rich > pre { margin: 0; padding: 6px 10px; border-left: 3px solid var(--line); white-space: pre-wrap; }
        .tok-keyword { color: #cf222e; } .tok-string { color: #0a3069; } .tok-comment { color: #6e7781; font-style: italic; }
        .tok-number { color: #0550ae; } .tok-directive { color: #8250df; } .tok-type { color: #953800; }
        @media print { .prompt { display: none; } .outputs { margin-left: 0; } main { max-width: none; } }
        """;

    public const string Slides = """
        * { box-sizing: border-box; }
        html, body { margin: 0; height: 100%; background: #222; }
        body { font: 26px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; }
        .slide { display: none; position: absolute; inset: 0; margin: auto; width: min(100vw, 177.78vh); height: min(56.25vw, 100vh);
                 background: #fff; padding: 3.2% 5%; overflow: auto; }
        .slide.current { display: block; }
        .slide h1 { font-size: 1.9em; margin: .2em 0 .4em; } .slide h2 { font-size: 1.5em; margin: .1em 0 .5em; color: #4e79a7; }
        .slide pre { font: 19px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa; border-radius: 8px; padding: 12px 16px; overflow-x: auto; }
        .slide pre.output { background: #fff; border-left: 4px solid #d0d7de; border-radius: 0; }
        .slide pre.error { background: #ffebe9; border-left-color: #cf222e; }
        .slide svg { max-width: 100%; height: auto; }
        .slide table { border-collapse: collapse; } .slide th, .slide td { border: 1px solid #d0d7de; padding: 4px 12px; }
        .slide code.tex { color: #6f42c1; }
        .counter { position: fixed; right: 16px; bottom: 10px; color: #999; font-size: 14px; font-family: system-ui, sans-serif; }
        .tok-keyword { color: #cf222e; } .tok-string { color: #0a3069; } .tok-comment { color: #6e7781; font-style: italic; }
        .tok-number { color: #0550ae; } .tok-directive { color: #8250df; } .tok-type { color: #953800; }
        @media print { html, body { background: #fff; } .slide { display: block; position: relative; page-break-after: always; width: 100%; height: auto; min-height: 100vh; } .counter { display: none; } }
        """;
}
