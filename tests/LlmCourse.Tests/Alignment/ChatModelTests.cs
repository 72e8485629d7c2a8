using LlmCourse.Alignment;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Alignment;

public sealed class ChatModelTests
{
    static Gpt Pretrained()
    {
        var chars = new CharTokenizer("abcdefgh ");
        return new Gpt(new GptConfig(chars.VocabSize, BlockSize: 32, Layers: 1, Heads: 2, Embedding: 16), chars, new Generator(7));
    }

    [Fact]
    public void FromPretrained_CopiesEveryWeight_AndStartsNewRowsAtTheMean()
    {
        var pretrained = Pretrained();
        var chat = ChatModel.FromPretrained(pretrained, ['1', '2']);
        var (V, C) = (9, 16);
        Assert.Equal(V + 2 + ChatTemplate.SpecialTokens.Count, chat.Gpt.Config.VocabSize);
        var old = pretrained.StateDict();
        foreach (var (name, tensor) in chat.Gpt.StateDict())
        {
            var values = tensor.ToArray();
            if (name != "wte.weight") { Assert.Equal(old[name].ToArray(), values); continue; }
            Assert.Equal(old[name].ToArray(), values[..(V * C)]);
            var oldRows = old[name].ToArray();
            for (var c = 0; c < C; c++)
            {
                var mean = Enumerable.Range(0, V).Average(v => oldRows[v * C + c]);
                var newMean = Enumerable.Range(V, 8).Average(v => values[v * C + c]);
                Assert.Equal(mean, newMean, 2);   // within the noise, a tenth of the rows' spread
            }
        }
        // The logits of the old tokens on old text are unchanged: the embedding rows they use are the same.
        var tokens = Tensor.FromArray([0, 1, 2, 3], 1, 4);
        using var a = pretrained.Inference();
        using var b = chat.Gpt.Inference();
        var before = pretrained.Forward(tokens).ToArray();
        var after = chat.Gpt.Forward(tokens).ToArray();
        var grownV = chat.Gpt.Config.VocabSize;
        for (var t = 0; t < 4; t++) for (var v = 0; v < V; v++) Assert.Equal(before[t * V + v], after[t * grownV + v], 5);
    }

    [Fact]
    public void SaveAndLoad_RoundTripTheWeightsTokenizerAndReplies()
    {
        var chat = ChatModel.FromPretrained(Pretrained(), ['1']);
        var path = Path.Combine(Path.GetTempPath(), $"chat-{Guid.NewGuid():N}.safetensors");
        try
        {
            chat.Save(path, new Dictionary<string, string> { ["note"] = "test" });
            var (loaded, metadata) = ChatModel.LoadWithMetadata(path);
            Assert.Equal("test", metadata["note"]);
            Assert.Equal(chat.Tokenizer.Characters, loaded.Tokenizer.Characters);
            Assert.Equal(chat.Tokenizer.BaseVocabSize, loaded.Tokenizer.BaseVocabSize);
            Assert.Equal(chat.Reply("abc", 10), loaded.Reply("abc", 10));
        }
        finally { File.Delete(path); }
        Assert.Throws<FileNotFoundException>(() => ChatModel.Load(path));
    }

    [Fact]
    public void SftTrainer_TeachesAReply_ThatStopsAtAssistantEnd()
    {
        var chat = ChatModel.FromPretrained(Pretrained(), []);
        InstructionExample Example(string prompt, string answer) => new("x", "t", InstructionTasks.Train, 0, prompt, answer);
        var train = new[] { Example("ab", "hgf"), Example("ba", "c") };
        var trainer = new SftTrainer(chat, train, train, new SftOptions { Steps = 150, BatchSize = 2, LearningRate = 1e-2f, MinLearningRate = 1e-3f, WarmupSteps = 5, EvalInterval = 50 });
        var history = trainer.Run();
        Assert.True(history.Evaluations[^1].ValidationLoss < 0.05, $"response loss {history.Evaluations[^1].ValidationLoss}");
        Assert.True(history.Evaluations[^1].ValidationLoss < history.Evaluations[0].ValidationLoss / 20);
        // Greedy replies are exactly the answers: generation stopped at <|assistant_end|>, not at the 20-token limit.
        var streamed = new List<int>();
        var reply = chat.GenerateReply(chat.Template.RenderPrompt([ChatMessage.User("ab")]), 20, onToken: streamed.Add);
        Assert.Equal("hgf", chat.Tokenizer.Decode(reply));
        Assert.Equal(reply, streamed);
        Assert.Equal("c", chat.Reply("ba", 20));
        Assert.Equal(chat.Gpt.ParameterCount(), trainer.TrainableParameters);
        Assert.Equal(2 * trainer.TrainableParameters * 4, trainer.OptimizerStateBytes, (double)trainer.TrainableParameters);
    }
}
