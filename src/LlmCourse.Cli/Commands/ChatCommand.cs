using System.CommandLine;
using LlmCourse.Alignment;
using LlmCourse.Models;
using Spectre.Console;

namespace LlmCourse.Cli.Commands;

/// <summary>
/// <c>llmcourse chat --checkpoint FILE</c>: a terminal chat with a fine-tuned model (lesson 06 saves one
/// to <c>~/.cache/llmcourse/models/sft-chat.safetensors</c>, the default). Multi-turn: each reply sees
/// the conversation so far, rendered with the chat template; the oldest exchanges are dropped when it
/// no longer fits the model's window. Tokens are printed as they are sampled. <c>/reset</c> starts a
/// new conversation, <c>/quit</c> (or the end of the input) leaves.
/// </summary>
static class ChatCommand
{
    public static Command Create(IAnsiConsole console, TextReader input)
    {
        var checkpoint = new Option<string>("--checkpoint", "-c")
        {
            Description = "A chat model checkpoint (ChatModel.Save); default: lesson 06's fine-tuned model in the course cache.",
            DefaultValueFactory = _ => ChatModel.FineTunedPath(),
        };
        var temperature = new Option<float>("--temperature", "-t")
        {
            Description = "Sampling temperature: 0 takes the most likely token, higher is more varied.",
            DefaultValueFactory = _ => 0.7f,
        };
        var topP = new Option<float>("--top-p")
        {
            Description = "Nucleus sampling: keep the most likely tokens whose probabilities add up to this (0 < p ≤ 1).",
            DefaultValueFactory = _ => 0.9f,
        };
        var maxTokens = new Option<int>("--max-tokens")
        {
            Description = "The longest reply, in tokens.",
            DefaultValueFactory = _ => 48,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the sampling.", DefaultValueFactory = _ => 0 };
        var command = new Command("chat", "Chat in the terminal with a fine-tuned model (lesson 06); /reset starts over, /quit leaves.")
        {
            checkpoint, temperature, topP, maxTokens, seed,
        };
        command.SetAction(parsed => Run(console, input, parsed.GetValue(checkpoint)!, parsed.GetValue(temperature), parsed.GetValue(topP),
            parsed.GetValue(maxTokens), parsed.GetValue(seed)));
        return command;
    }

    static int Run(IAnsiConsole console, TextReader input, string checkpoint, float temperature, float topP, int maxTokens, int seed)
    {
        if (temperature < 0 || float.IsNaN(temperature)) return Usage(console, $"--temperature {temperature}: must be 0 or more.");
        if (!(topP > 0 && topP <= 1)) return Usage(console, $"--top-p {topP}: must be in (0, 1].");
        if (maxTokens < 1) return Usage(console, $"--max-tokens {maxTokens}: must be at least 1.");
        if (!File.Exists(checkpoint))
            return Usage(console, $"no checkpoint at {checkpoint}. Run lesson 06 (notebooks/06-sft.ipynb), which saves its fine-tuned model to {ChatModel.FineTunedPath()}, or pass --checkpoint FILE.");
        ChatModel model;
        try { model = ChatModel.Load(checkpoint); }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException)
        {
            return Usage(console, e.Message);
        }
        maxTokens = Math.Min(maxTokens, model.ContextLength / 2);
        var sampling = new Sampling(Temperature: temperature, TopP: topP);
        console.MarkupLine($"[bold]{Markup.Escape(model.Gpt.Name)}[/] ({model.Gpt.ParameterCount():N0} parameters, a window of {model.ContextLength} tokens) from {Markup.Escape(checkpoint)}");
        console.MarkupLine($"temperature {temperature}, top-p {topP}. Type a message; [bold]/reset[/] starts a new conversation, [bold]/quit[/] leaves.");

        var history = new List<ChatMessage>();
        for (var turn = 0; ; turn++)
        {
            console.Markup("[bold blue]you>[/] ");
            var line = input.ReadLine();
            if (line is null) { console.WriteLine(); break; }
            line = line.Trim();
            if (line == "/quit") break;
            if (line == "/reset") { history.Clear(); console.MarkupLine("[grey](new conversation)[/]"); continue; }
            if (line.Length == 0) continue;
            var unknown = line.Where(c => !model.Tokenizer.Characters.Contains(c)).Distinct().ToArray();
            if (unknown.Length > 0)
            {
                console.MarkupLine($"[yellow]The model has no token for {Markup.Escape(string.Join(" ", unknown.Select(c => $"'{c}'")))}; please leave it out.[/]");
                continue;
            }

            history.Add(ChatMessage.User(line));
            var prompt = model.Template.RenderPrompt(history);
            var dropped = false;
            while (prompt.Length > model.ContextLength - maxTokens && history.Count > 1)
            {
                history.RemoveRange(0, 2);   // the oldest exchange
                prompt = model.Template.RenderPrompt(history);
                dropped = true;
            }
            if (dropped) console.MarkupLine("[grey](older turns dropped: the conversation no longer fits the model's window)[/]");
            console.Markup("[bold green]assistant>[/] ");
            var reply = model.GenerateReply(prompt, maxTokens, sampling, seed + turn,
                onToken: id => console.Write(new Spectre.Console.Text(model.Tokenizer.TokenText(id))));
            console.WriteLine();
            history.Add(ChatMessage.Assistant(model.Tokenizer.Decode(reply)));
        }
        return ExitCodes.Success;
    }

    static int Usage(IAnsiConsole console, string message)
    {
        console.MarkupLine($"[red]error:[/] llmcourse chat: {Markup.Escape(message)}");
        return ExitCodes.UsageError;
    }
}
