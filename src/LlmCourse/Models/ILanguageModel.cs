using LlmCourse.Tokenizers;

namespace LlmCourse.Models;

/// <summary>
/// What every language model in the course does, from counting to GPT, so that all of them
/// stand on one <see cref="Leaderboard"/>: score a text (how surprised the model is by each
/// token, given the tokens before it) and continue a prompt.
/// </summary>
public interface ILanguageModel
{
    /// <summary>A short label for tables and charts: "bigram (add-1)", "LSTM 256", "GPT 4×128".</summary>
    string Name { get; }

    ITokenizer Tokenizer { get; }

    /// <summary>
    /// The summed negative log-likelihood, in nats, of <c>tokens[1..]</c>, each given the tokens
    /// before it (as much of them as the model can see), and how many tokens that is
    /// (<c>tokens.Length - 1</c>). The first token is given, never predicted, so every model is
    /// scored on the same predictions.
    /// </summary>
    (double Nats, int Predictions) NegativeLogLikelihood(int[] tokens);

    /// <summary>The prompt followed by <paramref name="maxNewTokens"/> sampled tokens, decoded.</summary>
    string Generate(string prompt, int maxNewTokens, Sampling? sampling = null, int seed = 0);
}

public static class LanguageModelExtensions
{
    /// <summary>Loss (nats/token), perplexity and bits per character of the model on a text.</summary>
    public static EvaluationResult Evaluate(this ILanguageModel model, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = model.Tokenizer.Encode(text);
        if (tokens.Length < 2)
            throw new ArgumentException($"Evaluate({model.Name}): the text has {tokens.Length} token(s); at least 2 are needed.", nameof(text));
        var (nats, predictions) = model.NegativeLogLikelihood(tokens);
        // Characters covered by the predictions: everything after the first (given) token.
        var characters = Math.Max(1, text.Length - model.Tokenizer.Decode([tokens[0]]).Length);
        return new EvaluationResult(model.Name, predictions, characters, nats);
    }
}
