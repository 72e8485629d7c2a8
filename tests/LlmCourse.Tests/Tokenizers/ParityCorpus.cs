using System.Text;

namespace LlmCourse.Tests.Tokenizers;

/// <summary>
/// Texts on which our tokenizers must give exactly js-tiktoken's tokens: each one aims at a part of
/// the pre-tokenizer pattern or of the byte-level merge.
/// </summary>
static class ParityCorpus
{
    public static readonly string[] Texts =
    [
        // English prose, punctuation, quotes.
        "Hello world",
        "The quick brown fox jumps over the lazy dog. \"Really?\" she asked -- and (after a pause) laughed!",
        "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n",
        // Code.
        "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
        "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }\r\n// comment\r\n\tvar x = y?.z ?? 0;",
        "<html><body class=\"main\">&nbsp;&lt;tag&gt;</body></html>",
        // Runs of spaces and newlines; leading and trailing spaces.
        "a  b   c    d",
        "   leading spaces",
        "trailing spaces   ",
        "trailing newline\n",
        "many\n\n\n\nnewlines\n\n",
        " \n \n  \n   x",
        "\t\ttabs\tand \t mixed \t\n",
        "\r\n\r\nwindows\r\n",
        "          ",
        "\n",
        "",
        // Contractions, both cases, and ones the pattern does not know.
        "I'm sure you'll see it's what we've said: they'd and he's, we're.",
        "I'M SURE YOU'LL SEE IT'S WHAT WE'VE SAID: THEY'D AND HE'S, WE'RE.",
        "It'S mIxEd'Ll cAsE'Ve 'rE 'D 'T",
        "don't can't won't shouldn't y'all o'clock rock'n'roll '' 'x",
        "‘curly’ ’s 's",
        // Numbers.
        "3.14159 2,718,281 1e-10 0x1F -42 +7 100% $5.99 12345678901234567890",
        "2024-01-01T12:34:56Z and 1/2 + 3/4 = 5/4",
        "٣٤٥ ५६७ ໑໒ ⅠⅡⅢ ½¼ ²³",
        // Accented and non-Latin scripts.
        "Café naïve résumé façade coöperate Ångström",
        "Ça va? Über straße. ñandú. Øresund. Łódź. İstanbul.",
        "日本語のテキスト、漢字とひらがな。中文文本：你好，世界！한국어 텍스트입니다.",
        "مرحبا بالعالم، هذا نص عربي.",
        "नमस्ते दुनिया, यह हिंदी पाठ है। क्षत्रिय",
        "Привет, мир! Это русский текст. Ёлка.",
        "Γειά σου Κόσμε. שלום עולם. สวัสดีชาวโลก. ሰላም ለዓለም.",
        "combining: e\u0301 a\u0308 n\u0303 and precomposed: é ä ñ",
        // Emoji: single, ZWJ sequences, skin tones, flags, keycaps, variation selectors.
        "I love 🍕 and 🎉!!! 😀😃😄",
        "👨‍👩‍👧‍👦 family 👩🏽‍💻 coder 🧑🏿‍🚀",
        "👍🏻👍🏼👍🏽👍🏾👍🏿 thumbs",
        "🇫🇷🇯🇵🇺🇸 flags 1️⃣ #️⃣ ❤️ ☺︎",
        "emoji😀glued😀to😀words",
        // Supplementary-plane letters and digits (surrogate pairs in UTF-16).
        "𝐁𝐨𝐥𝐝 𝑰𝒕𝒂𝒍𝒊𝒄 𝟏𝟐𝟑 𝔉𝔯𝔞𝔨𝔱𝔲𝔯",
        "𠀀𠀁𠀂 rare CJK 𪚥 and Gothic 𐌰𐌱𐌲",
        "x𝐀y 1𝟏2 😀a a😀 𝐀😀",
        // Special-token lookalikes and symbols.
        "<|endoftext> <endoftext|> <|startoftext|> | < >",
        "~!@#$%^&*()_+`-=[]\\{}|;':\",./<>?",
        "…—–•·°±×÷≠≤≥∞∑∏√∫",
        "\u0000\u0001\u0007\u001b[31m control \u007f",
        "non\u00a0breaking\u2009thin\u3000ideographic space",
        "line\u2028separator\u2029paragraph",
        "zero\u200bwidth\u200cjoiner\u200dmarks",
    ];

    /// <summary>
    /// Characters where tiktoken's own engines and js-tiktoken disagree, so js-tiktoken is no oracle
    /// for them: JavaScript's <c>\s</c> includes U+FEFF and not U+0085, Unicode's White_Space (Rust's
    /// and Python's <c>\s</c>, and .NET's) the reverse. We follow tiktoken; the random texts avoid them.
    /// </summary>
    public static readonly int[] WhiteSpaceDisagreements = [0xFEFF, 0x0085];

    /// <summary>Random strings drawn from interesting pieces and random code points of many scripts, seeded.</summary>
    public static List<string> Random(int count, int seed)
    {
        var random = new Random(seed);
        string[] fragments =
        [
            " ", "  ", "\n", "\n\n", "\t", "\r\n", "'s", "'S", "'ll", "'LL", "'Re", "'ve", "'m", "'d", "'t", "'",
            "the", " the", "The", " and", "123", "4567", " 8", ".", ",", "!", "?", "...", "--", "(", ")", "\"",
            "é", "ñ", "ß", "日本", "中文", "한국", "مرحبا", "नमस्ते", "Привет", "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "𝐀", "𝟏", "𠀀",
            "<|endoftext|>", "\u00a0", "\u3000", "\u200d", "_", "$", "#", "@", "0x", "e\u0301",
        ];
        var texts = new List<string>(count);
        for (var t = 0; t < count; t++)
        {
            var text = new StringBuilder();
            var parts = random.Next(1, 40);
            for (var p = 0; p < parts; p++)
            {
                if (random.Next(4) > 0) text.Append(fragments[random.Next(fragments.Length)]);
                else text.Append(RandomCodePoint(random));
            }
            texts.Add(text.ToString());
        }
        return texts;
    }

    static string RandomCodePoint(Random random)
    {
        // Ranges that have been assigned for many Unicode versions, so node's ICU and .NET agree on
        // their categories: Latin, Greek, Cyrillic, Arabic, Devanagari, CJK, kana, Hangul, symbols,
        // math alphanumerics, emoji.
        (int From, int To)[] ranges =
        [
            (0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x600, 0x6FF), (0x900, 0x97F),
            (0x2000, 0x206F), (0x2100, 0x27BF), (0x3000, 0x30FF), (0x4E00, 0x4FFF), (0xAC00, 0xAD00),
            (0x1D400, 0x1D7FF), (0x1F300, 0x1F64F), (0x20000, 0x200FF),
        ];
        while (true)
        {
            var (from, to) = ranges[random.Next(ranges.Length)];
            var code = random.Next(from, to + 1);
            if (Array.IndexOf(WhiteSpaceDisagreements, code) >= 0) continue;
            if (System.Globalization.CharUnicodeInfo.GetUnicodeCategory(code) == System.Globalization.UnicodeCategory.OtherNotAssigned) continue;
            return char.ConvertFromUtf32(code);
        }
    }
}
