using System.Globalization;
using System.Text;

namespace LlmCourse.Bench;

/// <summary>
/// A reproducible text unlike Shakespeare, for tokenizer benchmarks: C# source, markdown, prose in
/// many scripts and emoji (ZWJ sequences, skin tones, flags), interleaved in blocks drawn by a seeded
/// generator. The same seed and size give the same text on every machine and .NET version
/// (<see cref="Random(int)"/> with a seed is specified to be stable).
/// </summary>
public static class MixedText
{
    static readonly string[] Words = ["tensor", "gradient", "token", "merge", "vocabulary", "attention", "layer", "batch", "loss", "step", "cache", "piece"];

    static readonly string[] Prose =
    [
        "Les modèles de langue prédisent le prochain jeton ; l'entraînement réduit l'entropie croisée.",
        "Die Größe des Vokabulars beeinflusst, wie viele Bytes ein Token im Durchschnitt überdeckt.",
        "El tokenizador divide el texto en piezas y luego fusiona los pares de bytes más frecuentes.",
        "言語モデルは次のトークンを予測します。学習では交差エントロピーを最小化します。",
        "语言模型预测下一个词元，训练的目标是最小化交叉熵损失。",
        "언어 모델은 다음 토큰을 예측하고, 학습은 교차 엔트로피를 줄입니다.",
        "Языковая модель предсказывает следующий токен; обучение уменьшает перекрёстную энтропию.",
        "Το γλωσσικό μοντέλο προβλέπει την επόμενη λέξη· η εκπαίδευση μειώνει την εντροπία.",
        "نموذج اللغة يتنبأ بالرمز التالي، والتدريب يقلل الإنتروبيا المتقاطعة.",
        "מודל שפה חוזה את האסימון הבא, והאימון מקטין את האנטרופיה הצולבת.",
        "भाषा मॉडल अगले टोकन का अनुमान लगाता है; प्रशिक्षण क्रॉस-एन्ट्रॉपी को घटाता है।",
        "แบบจำลองภาษาทำนายโทเค็นถัดไป และการฝึกช่วยลดค่าครอสเอนโทรปี",
        "Mô hình ngôn ngữ dự đoán token tiếp theo; huấn luyện làm giảm entropy chéo.",
        "Dil modeli bir sonraki belirteci tahmin eder; eğitim çapraz entropiyi düşürür.",
    ];

    static readonly string[] Emoji =
    [
        "😀", "🎉", "🚀", "🍕", "❤️", "👍🏽", "👩🏽‍💻", "👨‍👩‍👧‍👦", "🧑🏿‍🚀", "🇫🇷", "🇯🇵", "🇧🇷", "1️⃣", "✅", "🔥", "🤖", "📈", "🙏🏻",
    ];

    /// <summary>At least <paramref name="utf8Bytes"/> bytes of mixed text.</summary>
    public static string Build(int utf8Bytes, int seed = 42)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        var bytes = 0;
        while (bytes < utf8Bytes)
        {
            var start = text.Length;
            switch (random.Next(4))
            {
                case 0: CSharp(text, random); break;
                case 1: Markdown(text, random); break;
                case 2: Multilingual(text, random); break;
                default: Chat(text, random); break;
            }
            bytes += Encoding.UTF8.GetByteCount(text.ToString(start, text.Length - start));
        }
        return text.ToString();
    }

    static string Word(Random random) => Words[random.Next(Words.Length)];

    static string Pascal(Random random) => string.Concat(Enumerable.Range(0, random.Next(1, 4))
        .Select(_ => Word(random)).Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    static void CSharp(StringBuilder text, Random random)
    {
        var name = Pascal(random);
        var field = Word(random);
        text.Append(CultureInfo.InvariantCulture, $$"""
            /// <summary>Computes the {{Word(random)}} of a {{Word(random)}}, in place.</summary>
            public static int {{name}}(ReadOnlySpan<float> {{field}}, Span<int> ids, int count = {{random.Next(1, 4096)}})
            {
                var total = 0;
                for (var i = 0; i < {{field}}.Length; i++)
                {
                    if ({{field}}[i] > {{(random.NextDouble() * 10).ToString("F3", CultureInfo.InvariantCulture)}}f) ids[total++] = i;
                    else if (i % {{random.Next(2, 17)}} == 0) continue; // skip the {{Word(random)}}s
                }
                return total >= count ? total : throw new ArgumentException($"{{name}}: {total} < {count}");
            }


            """);
    }

    static void Markdown(StringBuilder text, Random random)
    {
        text.Append(CultureInfo.InvariantCulture, $"## {Pascal(random)} and the {Word(random)}\n\n");
        text.Append(CultureInfo.InvariantCulture, $"The **{Word(random)}** is computed from the `{Word(random)}` ([see the docs](https://example.org/{Word(random)}/{random.Next(100)})).\n\n");
        for (var i = 0; i < random.Next(2, 5); i++)
            text.Append(CultureInfo.InvariantCulture, $"- {Word(random)}: {random.Next(1000)} ms, {random.NextDouble():P1} of the {Word(random)}\n");
        text.Append("\n| name | value |\n|------|------:|\n");
        for (var i = 0; i < random.Next(2, 4); i++)
            text.Append(CultureInfo.InvariantCulture, $"| {Word(random)} | {random.NextDouble() * 100:F2} |\n");
        text.Append("\n$$\\text{loss} = -\\frac{1}{T}\\sum_t \\log p(x_t \\mid x_{<t})$$\n\n");
    }

    /// <summary>
    /// Sentences re-made from the words of one language's sentence in a random order (runs of two to
    /// four characters for scripts written without spaces), so pieces repeat as in real text but not
    /// verbatim, and tokenizer caches do not see the same few sentences over and over.
    /// </summary>
    static void Multilingual(StringBuilder text, Random random)
    {
        for (var i = 0; i < random.Next(2, 6); i++)
        {
            var sentence = Prose[random.Next(Prose.Length)];
            var words = sentence.Contains(' ', StringComparison.Ordinal)
                ? sentence.Split(' ')
                : Enumerable.Range(0, sentence.Length / 3).Select(k => sentence.Substring(k * 3, Math.Min(sentence.Length - k * 3, 2 + random.Next(3)))).ToArray();
            random.Shuffle(words);
            text.AppendJoin(sentence.Contains(' ', StringComparison.Ordinal) ? " " : "", words).Append(' ');
        }
        text.Append("\n\n");
    }

    static void Chat(StringBuilder text, Random random)
    {
        for (var i = 0; i < random.Next(2, 6); i++)
        {
            text.Append(random.Next(2) == 0 ? "user: " : "assistant: ");
            for (var w = 0; w < random.Next(3, 12); w++)
            {
                text.Append(random.Next(5) == 0 ? Emoji[random.Next(Emoji.Length)] : Word(random));
                text.Append(random.Next(6) == 0 ? "" : " ");
            }
            text.Append(Emoji[random.Next(Emoji.Length)]).Append(random.Next(3) == 0 ? "!!\n" : "\n");
        }
        text.Append('\n');
    }
}
