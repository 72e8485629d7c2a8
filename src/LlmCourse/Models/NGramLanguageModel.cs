using LlmCourse.Text;
using LlmCourse.Tokenizers;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Models;

/// <summary>
/// An n-gram language model: the next token depends only on the n − 1 tokens before it, and its
/// probability comes from counting. Works on any tokens (characters, words) and any order n.
/// </summary>
/// <remarks>
/// Conventions: <c>V</c> is the vocabulary size; an m-gram is stored as the integer
/// <c>t₁·V^(m−1) + … + t_m</c> (a number in base V, oldest token first), so sorting the m-grams
/// puts every context's followers side by side, its context is <c>code / V</c> and its last m − 1
/// tokens are <c>code mod V^(m−1)</c>. One table per order m = 1 … n holds the distinct m-grams
/// and their counts. Near the start of a text, and for contexts never seen in training, a model
/// uses the longest context it has counts for ("backoff"), so every context gets a distribution.
/// </remarks>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed class NGramLanguageModel : ILanguageModel
{
    /// <summary>The m-grams of one order, sorted, with their counts and their contexts' totals.</summary>
    sealed class Table
    {
        public required int M;
        public required UInt128[] Keys;
        public required long[] Raw;
        /// <summary>The counts the probabilities use: raw counts, or for Kneser–Ney's lower orders,
        /// continuation counts N₁₊(• context w), how many different tokens came before.</summary>
        public required long[] Effective;
        public required UInt128[] Contexts;
        public required int[] Start;
        public required int[] Length;
        /// <summary>Σ_w Effective(context w).</summary>
        public required long[] Total;
        /// <summary>N₁₊(context •): how many distinct tokens followed the context.</summary>
        public required int[] Distinct;
        public double Discount;

        public int FindContext(UInt128 context) => Array.BinarySearch(Contexts, context) is var i and >= 0 ? i : -1;

        public long CountIn(int context, UInt128 key, long[] counts)
        {
            var i = Array.BinarySearch(Keys, Start[context], Length[context], key);
            return i >= 0 ? counts[i] : 0;
        }
    }

    readonly Table[] tables;
    readonly UInt128 vocabSize;

    NGramLanguageModel(ITokenizer tokenizer, int order, Smoothing smoothing, Table[] tables, string name)
    {
        Tokenizer = tokenizer;
        Order = order;
        Smoothing = smoothing;
        this.tables = tables;
        vocabSize = (UInt128)tokenizer.VocabSize;
        Name = name;
    }

    public string Name { get; }
    public ITokenizer Tokenizer { get; }
    public int Order { get; }
    public Smoothing Smoothing { get; }
    public int VocabSize => Tokenizer.VocabSize;

    /// <summary>Tokens counted in training.</summary>
    public long TrainingTokens => tables[0].Raw.Sum();

    /// <summary>Counts the n-grams of <paramref name="text"/>, for n = 1 … <paramref name="order"/>.</summary>
    public static NGramLanguageModel Train(ITokenizer tokenizer, string text, int order, Smoothing smoothing, string? name = null) =>
        Train(tokenizer, tokenizer.Encode(text), order, smoothing, name);

    public static NGramLanguageModel Train(ITokenizer tokenizer, int[] tokens, int order, Smoothing smoothing, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(smoothing);
        var v = tokenizer.VocabSize;
        if (order < 1) throw new ArgumentOutOfRangeException(nameof(order), order, "NGramLanguageModel: the order n must be 1 or more.");
        if (order * Math.Log2(Math.Max(v, 2)) >= 127)
            throw new ArgumentOutOfRangeException(nameof(order), order,
                $"NGramLanguageModel: order {order} with a vocabulary of {v} tokens does not fit the 128-bit n-gram keys (need n·log2(V) < 127).");
        for (var i = 0; i < tokens.Length; i++)
            if ((uint)tokens[i] >= (uint)v)
                throw new ArgumentException($"NGramLanguageModel: token {tokens[i]} at position {i} is outside the vocabulary [0, {v}).", nameof(tokens));

        var tables = new Table[order];
        for (var m = 1; m <= order; m++) tables[m - 1] = Count(tokens, m, (UInt128)v);
        var kneserNey = smoothing as KneserNeySmoothing;
        if (kneserNey is not null)
            for (var m = order - 1; m >= 1; m--) UseContinuationCounts(tables[m - 1], tables[m], (UInt128)v);
        foreach (var table in tables)
        {
            SummariseContexts(table, (UInt128)v);
            if (kneserNey is not null) table.Discount = kneserNey.Discount ?? EstimateDiscount(table.Effective);
        }
        var unit = tokenizer switch { CharTokenizer => "char ", WordTokenizer => "word ", _ => "" };
        return new NGramLanguageModel(tokenizer, order, smoothing, tables, name ?? $"{unit}{order}-gram ({smoothing})");
    }

    static Table Count(int[] tokens, int m, UInt128 v)
    {
        var n = Math.Max(0, tokens.Length - m + 1);
        var codes = new UInt128[n];
        var high = UInt128.One;
        for (var j = 1; j < m; j++) high *= v;
        UInt128 code = 0;
        for (var i = 0; i < tokens.Length; i++)
        {
            // Slide the window: drop the oldest token (the top digit), append the new one.
            code = (m == 1 ? 0 : code % high) * v + (UInt128)tokens[i];
            if (i >= m - 1) codes[i - m + 1] = code;
        }
        Array.Sort(codes);
        var keys = new List<UInt128>();
        var counts = new List<long>();
        for (var i = 0; i < codes.Length; i++)
        {
            if (i > 0 && codes[i] == codes[i - 1]) counts[^1]++;
            else { keys.Add(codes[i]); counts.Add(1); }
        }
        var raw = counts.ToArray();
        return new Table
        {
            M = m, Keys = keys.ToArray(), Raw = raw, Effective = raw,
            Contexts = [], Start = [], Length = [], Total = [], Distinct = [],
        };
    }

    /// <summary>Kneser–Ney's lower orders count how many different tokens precede an m-gram,
    /// not how often it occurs: "Francisco" is frequent but only ever follows "San".</summary>
    static void UseContinuationCounts(Table lower, Table higher, UInt128 v)
    {
        var modulus = UInt128.One;
        for (var j = 0; j < lower.M; j++) modulus *= v;
        var continuation = new long[lower.Keys.Length];
        foreach (var key in higher.Keys)
        {
            var i = Array.BinarySearch(lower.Keys, key % modulus);
            continuation[i]++;   // always found: every suffix of an (m+1)-gram is itself counted as an m-gram
        }
        lower.Effective = continuation;
    }

    static void SummariseContexts(Table table, UInt128 v)
    {
        var contexts = new List<UInt128>();
        var start = new List<int>();
        var length = new List<int>();
        var total = new List<long>();
        var distinct = new List<int>();
        for (var i = 0; i < table.Keys.Length; i++)
        {
            var context = table.Keys[i] / v;
            if (contexts.Count == 0 || contexts[^1] != context)
            {
                contexts.Add(context); start.Add(i); length.Add(0); total.Add(0); distinct.Add(0);
            }
            length[^1]++;
            total[^1] += table.Effective[i];
            if (table.Effective[i] > 0) distinct[^1]++;
        }
        table.Contexts = contexts.ToArray();
        table.Start = start.ToArray();
        table.Length = length.ToArray();
        table.Total = total.ToArray();
        table.Distinct = distinct.ToArray();
    }

    /// <summary>Ney, Essen and Kneser (1994): D = n₁ / (n₁ + 2·n₂), from how many n-grams were seen once and twice.</summary>
    static double EstimateDiscount(long[] counts)
    {
        long n1 = 0, n2 = 0;
        foreach (var c in counts)
        {
            if (c == 1) n1++;
            else if (c == 2) n2++;
        }
        return n1 > 0 && n2 > 0 ? (double)n1 / (n1 + 2 * n2) : 0.75;
    }

    /// <summary>The discount Kneser–Ney subtracts from every count of order <paramref name="m"/>.</summary>
    public double Discount(int m) => Smoothing is KneserNeySmoothing
        ? tables[CheckOrder(m) - 1].Discount
        : throw new InvalidOperationException($"{Name}: only Kneser–Ney smoothing has discounts.");

    int CheckOrder(int m) => m >= 1 && m <= Order ? m
        : throw new ArgumentOutOfRangeException(nameof(m), m, $"{Name}: orders run from 1 to {Order}.");

    UInt128 Encode(ReadOnlySpan<int> tokens)
    {
        UInt128 code = 0;
        foreach (var t in tokens)
        {
            if ((uint)t >= (uint)VocabSize)
                throw new ArgumentException($"{Name}: token {t} is outside the vocabulary [0, {VocabSize}).");
            code = code * vocabSize + (UInt128)t;
        }
        return code;
    }

    /// <summary>How often the n-gram (1 to <see cref="Order"/> tokens) occurred in training.</summary>
    public long Count(params int[] ngram)
    {
        var table = tables[CheckOrder(ngram.Length) - 1];
        var i = Array.BinarySearch(table.Keys, Encode(ngram));
        return i >= 0 ? table.Raw[i] : 0;
    }

    /// <summary>Raw bigram counts as a V×V matrix, [previous, next]: the table lesson 01 draws as a heatmap.</summary>
    public double[,] BigramCounts()
    {
        if (Order < 2) throw new InvalidOperationException($"{Name}: a {Order}-gram model has no bigram counts.");
        var table = tables[1];
        var counts = new double[VocabSize, VocabSize];
        for (var i = 0; i < table.Keys.Length; i++)
            counts[(int)(table.Keys[i] / vocabSize), (int)(table.Keys[i] % vocabSize)] = table.Raw[i];
        return counts;
    }

    /// <summary>Every context of <paramref name="length"/> tokens seen in training (for inspection and tests).</summary>
    public IEnumerable<int[]> SeenContexts(int length)
    {
        var table = tables[CheckOrder(length + 1) - 1];
        foreach (var code in table.Contexts)
        {
            var context = new int[length];
            var c = code;
            for (var j = length - 1; j >= 0; j--) { context[j] = (int)(c % vocabSize); c /= vocabSize; }
            yield return context;
        }
    }

    /// <summary>The last <c>Order − 1</c> tokens of the history, or all of it when shorter.</summary>
    ReadOnlySpan<int> Window(ReadOnlySpan<int> history) => history.Length < Order ? history : history[^(Order - 1)..];

    /// <summary>p(token | history), using the last n − 1 tokens of the history.</summary>
    public double Probability(ReadOnlySpan<int> history, int token)
    {
        if ((uint)token >= (uint)VocabSize)
            throw new ArgumentOutOfRangeException(nameof(token), token, $"{Name}: token {token} is outside the vocabulary [0, {VocabSize}).");
        var h = Window(history);
        var uniform = 1.0 / VocabSize;

        if (Smoothing is KneserNeySmoothing)
        {
            // Interpolated Kneser–Ney, from the unigram up: each order keeps max(c − D, 0)/c(ctx) of its own
            // estimate and hands the discounted mass D·N₁₊(ctx •)/c(ctx) to the order below.
            var p = uniform;
            for (var m = 1; m <= h.Length + 1; m++)
            {
                var context = h[(h.Length - (m - 1))..];
                var table = tables[m - 1];
                var ctx = table.FindContext(Encode(context));
                if (ctx < 0 || table.Total[ctx] == 0) continue;   // unseen context: the lower order's estimate stands
                var c = table.CountIn(ctx, Encode(context) * vocabSize + (UInt128)token, table.Effective);
                double total = table.Total[ctx], d = table.Discount;
                p = Math.Max(c - d, 0) / total + d * table.Distinct[ctx] / total * p;
            }
            return p;
        }

        // Relative frequencies (plus k) from the longest context seen in training.
        var k = Smoothing is AddKSmoothing add ? add.K : 0;
        for (var m = h.Length + 1; m >= 1; m--)
        {
            var context = h[(h.Length - (m - 1))..];
            var table = tables[m - 1];
            var ctx = table.FindContext(Encode(context));
            if (ctx < 0) continue;
            var c = table.CountIn(ctx, Encode(context) * vocabSize + (UInt128)token, table.Raw);
            return (c + k) / (table.Total[ctx] + k * VocabSize);
        }
        return uniform;   // nothing was counted at all
    }

    /// <summary>p(· | history) over the whole vocabulary; sums to one.</summary>
    public double[] Distribution(ReadOnlySpan<int> history)
    {
        var h = Window(history);
        var p = new double[VocabSize];
        Array.Fill(p, 1.0 / VocabSize);

        if (Smoothing is KneserNeySmoothing)
        {
            for (var m = 1; m <= h.Length + 1; m++)
            {
                var table = tables[m - 1];
                var ctx = table.FindContext(Encode(h[(h.Length - (m - 1))..]));
                if (ctx < 0 || table.Total[ctx] == 0) continue;
                double total = table.Total[ctx], d = table.Discount;
                var lowerWeight = d * table.Distinct[ctx] / total;
                for (var w = 0; w < p.Length; w++) p[w] *= lowerWeight;
                for (var i = table.Start[ctx]; i < table.Start[ctx] + table.Length[ctx]; i++)
                    p[(int)(table.Keys[i] % vocabSize)] += Math.Max(table.Effective[i] - d, 0) / total;
            }
            return p;
        }

        var k = Smoothing is AddKSmoothing add ? add.K : 0;
        for (var m = h.Length + 1; m >= 1; m--)
        {
            var table = tables[m - 1];
            var ctx = table.FindContext(Encode(h[(h.Length - (m - 1))..]));
            if (ctx < 0) continue;
            var denominator = table.Total[ctx] + k * VocabSize;
            Array.Fill(p, k / denominator);
            for (var i = table.Start[ctx]; i < table.Start[ctx] + table.Length[ctx]; i++)
                p[(int)(table.Keys[i] % vocabSize)] += table.Raw[i] / denominator;
            return p;
        }
        return p;
    }

    public (double Nats, int Predictions) NegativeLogLikelihood(int[] tokens)
    {
        double nats = 0;
        for (var i = 1; i < tokens.Length; i++)
            nats -= Math.Log(Probability(tokens.AsSpan(Math.Max(0, i - Order + 1), Math.Min(i, Order - 1)), tokens[i]));
        return (nats, Math.Max(0, tokens.Length - 1));
    }

    public string Generate(string prompt, int maxNewTokens, Sampling? sampling = null, int seed = 0)
    {
        sampling ??= Sampling.Default;
        var random = new Random(seed);
        var tokens = new List<int>(Tokenizer.Encode(prompt));
        var logits = new float[VocabSize];
        for (var step = 0; step < maxNewTokens; step++)
        {
            var p = Distribution(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tokens));
            for (var w = 0; w < p.Length; w++) logits[w] = (float)Math.Log(p[w]);
            tokens.Add(sampling.Sample(logits, random));
        }
        return Tokenizer.Decode(tokens);
    }

    public override string ToString() => $"{Name}: {TrainingTokens:N0} training tokens, {VocabSize} types, " +
        string.Join(", ", tables.Select((t, m) => $"{t.Keys.Length:N0} distinct {m + 1}-grams"));
}
