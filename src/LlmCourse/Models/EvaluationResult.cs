using System.Globalization;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Models;

/// <summary>
/// One model's score on one text. The three numbers the course quotes all come from the same
/// total negative log-likelihood <c>Nats</c> = −Σ ln p(token | tokens before it):
/// <list type="bullet">
/// <item><c>Loss</c> = Nats / Tokens, the average cross-entropy in nats per token (what training minimises);</item>
/// <item><c>Perplexity</c> = e^Loss, "as unsure as a uniform choice among this many tokens";</item>
/// <item><c>BitsPerCharacter</c> = Nats / ln 2 / Characters, which does not depend on the tokenizer,
/// so a character model and a word model can be compared on it.</item>
/// </list>
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record EvaluationResult(string Model, int Tokens, int Characters, double Nats)
{
    public double Loss => Nats / Tokens;
    public double Perplexity => Math.Exp(Loss);
    public double BitsPerToken => Loss / Math.Log(2);
    public double BitsPerCharacter => Nats / Math.Log(2) / Characters;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Model}: loss {Loss:F4} nats/token, perplexity {Perplexity:F2}, {BitsPerCharacter:F3} bits/char ({Tokens:N0} tokens)");
}
