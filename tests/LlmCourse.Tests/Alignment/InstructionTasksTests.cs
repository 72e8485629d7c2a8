using LlmCourse.Alignment;
using LlmCourse.Tests.Text;

namespace LlmCourse.Tests.Alignment;

public sealed class InstructionTasksTests
{
    [Fact]
    public void CommittedFile_EqualsTheGeneratorsOutput_ByteForByte()
    {
        var path = Path.Combine(TinyPlaysTests.DatasetsFolder(), InstructionTasks.FileName);
        var generated = System.Text.Encoding.UTF8.GetBytes(InstructionTasks.ToJsonLines(InstructionTasks.Generate()));
        if (Environment.GetEnvironmentVariable("LLMCOURSE_REGENERATE") == "1")
            File.WriteAllBytes(path, generated);

        var committed = File.ReadAllBytes(path);
        Assert.True(committed.AsSpan().SequenceEqual(generated),
            $"{path} ({committed.Length} bytes) differs from InstructionTasks.Generate() ({generated.Length} bytes); " +
            "regenerate it with LLMCOURSE_REGENERATE=1 dotnet test tests/LlmCourse.Tests -c Release --filter InstructionTasks");
        Assert.InRange(committed.Length, 100_000, 1_000_000);
    }

    [Fact]
    public void Embedded_EqualsTheCommittedFile()
    {
        var committed = InstructionTasks.Parse(File.ReadAllText(Path.Combine(TinyPlaysTests.DatasetsFolder(), InstructionTasks.FileName)));
        Assert.Equal(committed, InstructionTasks.Load());
    }

    [Fact]
    public void Generate_IsDeterministic_AndDependsOnTheSeed()
    {
        Assert.Equal(InstructionTasks.Generate(3), InstructionTasks.Generate(3));
        Assert.NotEqual(InstructionTasks.Generate(3).Select(e => e.Prompt), InstructionTasks.Generate(4).Select(e => e.Prompt));
    }

    [Fact]
    public void Answers_AreRightForEveryFamily()
    {
        var examples = InstructionTasks.Load();
        foreach (var e in examples)
        {
            var quoted = System.Text.RegularExpressions.Regex.Matches(e.Prompt, "[a-z]{3,7}").Select(m => m.Value).ToArray();
            switch (e.Task)
            {
                case "spell":
                    Assert.Contains(e.Answer.Replace("-", ""), quoted);
                    Assert.Equal(e.Answer.Replace("-", "").Length * 2 - 1, e.Answer.Length);
                    break;
                case "reverse": Assert.Contains(new string(e.Answer.Reverse().ToArray()), quoted); break;
                case "upper": Assert.Contains(e.Answer.ToLowerInvariant(), quoted); Assert.Equal(e.Answer.ToUpperInvariant(), e.Answer); break;
                case "add":
                    var numbers = System.Text.RegularExpressions.Regex.Matches(e.Prompt, "[0-9]+").Select(m => int.Parse(m.Value)).ToArray();
                    Assert.Equal(2, numbers.Length);
                    Assert.Equal((numbers[0] + numbers[1]).ToString(), e.Answer);
                    break;
                case "yesno": Assert.Contains(e.Answer, new[] { "yes", "no" }); break;
                case "count": Assert.InRange(int.Parse(e.Answer), 0, 7); break;
                case "next": Assert.Matches("^[A-Za-z]+$", e.Answer); break;
                default: Assert.Fail($"unknown task {e.Task}"); break;
            }
        }
        // Hand-made: "moon" has two o's, and its spelling, reversal and capitals are these.
        Assert.True(InstructionTasks.Verify(" m-o-o-n. ", "m-o-o-n"));
        Assert.False(InstructionTasks.Verify("m-o-o-n-", "m-o-o-n"));
        Assert.False(InstructionTasks.Verify("MOON", "moon"));
    }

    [Fact]
    public void Splits_SeparateWordsAndPhrasings()
    {
        var examples = InstructionTasks.Load();
        Assert.Equal(InstructionTasks.FamilyNames.Count * InstructionTasks.SplitSizes.Values.Sum(), examples.Count);
        foreach (var family in InstructionTasks.Families)
        {
            var mine = examples.Where(e => e.Task == family.Name).ToArray();
            var heldOut = family.Templates.Count - 1;
            Assert.All(mine.Where(e => e.Split == InstructionTasks.HeldOut), e => Assert.Equal(heldOut, e.Template));
            Assert.All(mine.Where(e => e.Split != InstructionTasks.HeldOut), e => Assert.NotEqual(heldOut, e.Template));
            // No evaluation prompt appears in training.
            var trainPrompts = mine.Where(e => e.Split == InstructionTasks.Train).Select(e => e.Prompt).ToHashSet();
            Assert.DoesNotContain(mine.Where(e => e.Split is InstructionTasks.Test or InstructionTasks.HeldOut), e => trainPrompts.Contains(e.Prompt));
        }
        // Words asked about in test never appear in the training spelling prompts.
        string Word(InstructionExample e) => e.Answer.Replace("-", "");
        var trainWords = examples.Where(e => e.Task == "spell" && e.Split == "train").Select(Word).ToHashSet();
        Assert.DoesNotContain(examples.Where(e => e.Task == "spell" && e.Split == "test"), e => trainWords.Contains(Word(e)));
    }
}
