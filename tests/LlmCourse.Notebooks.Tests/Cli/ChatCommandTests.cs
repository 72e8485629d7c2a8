using LlmCourse.Alignment;
using LlmCourse.Cli;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;

namespace LlmCourse.Notebooks.Tests.Cli;

/// <summary><c>llmcourse chat</c> driven by a scripted standard input, against a tiny model taught two replies.</summary>
public sealed class ChatCommandTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("llmcourse-chat-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>A one-layer GPT fine-tuned until it answers "ab" with "hgf" and "ba" with "c", also as a second turn after "ab".</summary>
    string TrainedCheckpoint()
    {
        var chars = new CharTokenizer("abcdefgh ");
        var gpt = new Gpt(new GptConfig(chars.VocabSize, BlockSize: 48, Layers: 1, Heads: 2, Embedding: 16), chars, new Generator(7));
        var chat = ChatModel.FromPretrained(gpt, []);
        IReadOnlyList<ChatMessage>[] data =
        [
            [ChatMessage.User("ab"), ChatMessage.Assistant("hgf")],
            [ChatMessage.User("ba"), ChatMessage.Assistant("c")],
            [ChatMessage.User("ab"), ChatMessage.Assistant("hgf"), ChatMessage.User("ba"), ChatMessage.Assistant("c")],
        ];
        new SftTrainer(chat, data, data, new SftOptions { Steps = 150, BatchSize = 3, LearningRate = 1e-2f, MinLearningRate = 1e-3f, WarmupSteps = 5, EvalInterval = 0 }).Run();
        var path = Path.Combine(folder, "tiny-chat.safetensors");
        chat.Save(path);
        return path;
    }

    static Task<(int ExitCode, string Output)> Run(string script, params string[] args) => CliTests.RunWithInput(new StringReader(script), args);

    [Fact]
    public async Task Chat_RepliesTurnByTurn_Resets_AndQuits()
    {
        var checkpoint = TrainedCheckpoint();
        var (exitCode, output) = await Run("ab\nba\n/reset\nab\nzz\n/quit\nba\n", "chat", "--checkpoint", checkpoint, "--temperature", "0");

        Assert.Equal(CourseCli.Success, exitCode);
        var replies = output.Split('\n').Where(l => l.Contains("assistant> ")).Select(l => l[(l.IndexOf("assistant> ", StringComparison.Ordinal) + 11)..].Trim()).ToArray();
        // Three questions answered before /quit: "ab", "ba" (second turn of one conversation), then "ab" after /reset.
        Assert.Equal(["hgf", "c", "hgf"], replies);
        Assert.Contains("(new conversation)", output);
        Assert.Contains("no token for 'z'", output);
        Assert.Contains("temperature 0, top-p 0.9", output);
    }

    [Fact]
    public async Task Chat_EndOfInput_EndsTheSession()
    {
        var checkpoint = TrainedCheckpoint();
        var (exitCode, output) = await Run("ba", "chat", "-c", checkpoint, "-t", "0", "--top-p", "0.5");
        Assert.Equal(CourseCli.Success, exitCode);
        Assert.Contains("assistant> c", output);
    }

    [Fact]
    public async Task Chat_BadOptionsAndMissingCheckpoint_ExitWithTwo_AndSayWhy()
    {
        var missing = Path.Combine(folder, "none.safetensors");
        var (code1, out1) = await Run("", "chat", "--checkpoint", missing);
        Assert.Equal(CourseCli.UsageError, code1);
        Assert.Contains("no checkpoint at", out1);
        Assert.Contains("06-sft.ipynb", out1);

        var (code2, out2) = await Run("", "chat", "--checkpoint", missing, "--top-p", "1.5");
        Assert.Equal(CourseCli.UsageError, code2);
        Assert.Contains("--top-p 1.5", out2);
    }
}
