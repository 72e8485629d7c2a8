using LlmCourse.Tensors.Formatting;
using LlmCourse.Charts;
using LlmCourse.Models;

namespace LlmCourse.Alignment;

/// <summary>A model's reply to one example, and whether it was exactly right.</summary>
[LlmCourse.Tensors.Formatting.TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record GradedReply(InstructionExample Example, string Reply, bool Correct);

/// <summary>Exact-match accuracy of one task family on one split.</summary>
[LlmCourse.Tensors.Formatting.TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record TaskAccuracy(string Task, string Split, int Correct, int Total)
{
    public double Accuracy => Total == 0 ? double.NaN : (double)Correct / Total;
}

/// <summary>
/// Exact-match evaluation by greedy generation: each prompt is answered token by token (KV cache,
/// most likely token each time) until the model ends its turn, and the reply is compared with the
/// computed answer (<see cref="InstructionExample.Verify"/>). A model not yet fine-tuned knows no
/// template, so it is asked with a few-shot prompt in plain text instead:
/// <code>Q: Spell 'moon' letter by letter.\nA: m-o-o-n\n\nQ: … \nA: </code>
/// and its reply is the text up to the end of the line.
/// </summary>
public static class TaskEvaluation
{
    /// <summary>Room for the longest answer (a seven-letter word spelled with dashes is 13 characters).</summary>
    public const int MaxReplyTokens = 20;

    /// <summary>Replies through the chat template (a fine-tuned model).</summary>
    public static IReadOnlyList<GradedReply> Grade(ChatModel model, IEnumerable<InstructionExample> examples) =>
        examples.Select(e =>
        {
            var reply = model.Reply(e.Prompt, MaxReplyTokens);
            return new GradedReply(e, reply, e.Verify(reply));
        }).ToArray();

    /// <summary>
    /// The exact-match rate of <em>sampled</em> replies: <paramref name="samplesPerQuestion"/> replies per question
    /// drawn with <paramref name="sampling"/> (temperature 1: the distribution GRPO trains), averaged. Greedy
    /// accuracy (<see cref="Grade"/>) scores only each question's most likely reply, so a method that sharpens the
    /// distribution can raise this while leaving that unchanged. Reply i of question q uses seed
    /// <paramref name="seed"/> + q · samples + i, so two models are compared on the same random numbers.
    /// </summary>
    public static double SampledAccuracy(ChatModel model, IReadOnlyList<InstructionExample> examples, int samplesPerQuestion, Sampling sampling, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerQuestion, 1);
        if (examples.Count == 0) return double.NaN;
        var correct = 0;
        for (var q = 0; q < examples.Count; q++)
        {
            var prompt = model.Template.RenderPrompt([ChatMessage.User(examples[q].Prompt)]);
            for (var i = 0; i < samplesPerQuestion; i++)
            {
                var reply = model.Tokenizer.Decode(model.GenerateReply(prompt, MaxReplyTokens, sampling, seed + q * samplesPerQuestion + i));
                if (examples[q].Verify(reply)) correct++;
            }
        }
        return (double)correct / (examples.Count * samplesPerQuestion);
    }

    /// <summary>Replies to a few-shot prompt in plain text (a pretrained model): up to <paramref name="shots"/> solved
    /// examples of the same task from <paramref name="demonstrations"/>, as many as fit in the model's block.</summary>
    public static IReadOnlyList<GradedReply> GradeFewShot(ChatModel model, IEnumerable<InstructionExample> examples,
        IReadOnlyList<InstructionExample> demonstrations, int shots = 3)
    {
        var newline = model.Tokenizer.Encode("\n")[0];
        return examples.Select(e =>
        {
            var prompt = FewShotPrompt(e, demonstrations, shots, model.ContextLength - MaxReplyTokens);
            var reply = model.Complete(prompt, MaxReplyTokens, stop: id => id == newline || model.Tokenizer.IsSpecial(id));
            return new GradedReply(e, reply, e.Verify(reply));
        }).ToArray();
    }

    /// <summary>The few-shot prompt for an example: solved examples of its task (same phrasing where there are some), then the question, within <paramref name="maxLength"/> characters.</summary>
    public static string FewShotPrompt(InstructionExample example, IReadOnlyList<InstructionExample> demonstrations, int shots, int maxLength)
    {
        var question = $"Q: {example.Prompt}\nA: ";
        var chosen = demonstrations.Where(d => d.Task == example.Task && d.Prompt != example.Prompt)
            .OrderBy(d => d.Template == example.Template ? 0 : 1).Take(shots).ToList();
        string Render() => string.Concat(chosen.Select(d => $"Q: {d.Prompt}\nA: {d.Answer}\n\n")) + question;
        while (chosen.Count > 0 && Render().Length > maxLength) chosen.RemoveAt(chosen.Count - 1);
        return Render();
    }

    /// <summary>
    /// The baseline a model has to beat to have learned a task: every example is answered with its task's most
    /// common answer in <paramref name="training"/> (<see cref="MostCommonAnswers"/>). On tasks whose answers
    /// repeat (count: "1"; yes/no: "no"; next: "the") a constant reply already scores well, so a model's accuracy
    /// means something only above it. The answers come from the training examples, never from the graded ones:
    /// the baseline does not peek. A task with no training example is answered with the empty string.
    /// </summary>
    public static IReadOnlyList<GradedReply> GradeMostCommonAnswer(IEnumerable<InstructionExample> training, IEnumerable<InstructionExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var answers = MostCommonAnswers(training);
        return examples.Select(e =>
        {
            var reply = answers.GetValueOrDefault(e.Task, "");
            return new GradedReply(e, reply, e.Verify(reply));
        }).ToArray();
    }

    /// <summary>Each task's most frequent answer among the examples; a tie goes to the answer met first, so the
    /// result depends only on the examples and their order.</summary>
    public static IReadOnlyDictionary<string, string> MostCommonAnswers(IEnumerable<InstructionExample> training)
    {
        ArgumentNullException.ThrowIfNull(training);
        // GroupBy keeps the order of first appearance and MaxBy returns the first maximum: ties go to the earliest answer.
        return training.GroupBy(e => e.Task).ToDictionary(g => g.Key, g => g.GroupBy(e => e.Answer, StringComparer.Ordinal).MaxBy(a => a.Count())!.Key,
            StringComparer.Ordinal);
    }

    /// <summary>Accuracy per task family and split, in the families' order.</summary>
    public static IReadOnlyList<TaskAccuracy> Accuracy(IEnumerable<GradedReply> graded) =>
        graded.GroupBy(g => (g.Example.Task, g.Example.Split))
            .Select(g => new TaskAccuracy(g.Key.Task, g.Key.Split, g.Count(x => x.Correct), g.Count()))
            .OrderBy(a => InstructionTasks.FamilyNames.ToList().IndexOf(a.Task)).ThenBy(a => a.Split, StringComparer.Ordinal)
            .ToArray();

    /// <summary>Overall accuracy of the graded replies.</summary>
    public static double Overall(IEnumerable<GradedReply> graded)
    {
        var all = graded.ToArray();
        return all.Length == 0 ? double.NaN : all.Count(g => g.Correct) / (double)all.Length;
    }

    /// <summary>A bar chart: accuracy per task, one series per named evaluation (e.g. "before SFT, test", "after SFT, heldout").</summary>
    public static BarChart Chart(string title, params (string Name, IReadOnlyList<TaskAccuracy> Accuracies)[] series)
    {
        var tasks = InstructionTasks.FamilyNames;
        var chart = new BarChart(title, tasks, "task", "exact-match accuracy");
        foreach (var (name, accuracies) in series)
            chart.Add(name, tasks.Select(t =>
            {
                var rows = accuracies.Where(a => a.Task == t).ToArray();
                var total = rows.Sum(a => a.Total);
                return total == 0 ? 0 : rows.Sum(a => a.Correct) / (double)total;
            }));
        return chart;
    }
}
