using System.Diagnostics;
using LlmCourse.Training;

namespace LlmCourse.Alignment;

/// <summary>
/// The model lessons 07 and 08 start from: lesson 06's fully fine-tuned chat model, read from
/// <see cref="ChatModel.FineTunedPath"/> when lesson 06 (or an earlier call) saved it there, otherwise
/// made here the way lesson 06 makes it: <see cref="BaseModel.LoadOrTrain"/>, grown with
/// <see cref="ChatModel.FromPretrained"/>, then <see cref="SftTrainer"/> on the instruction tasks'
/// training split with <see cref="DefaultOptions"/>, and saved.
/// <code>var sft = FineTunedModel.LoadOrTrain();   // a ChatModel</code>
/// </summary>
public static class FineTunedModel
{
    /// <summary>Lesson 06's full fine-tuning run (quick mode: a few dozen steps).</summary>
    public static SftOptions DefaultOptions(Action<TrainingProgress>? progress = null) => new()
    {
        Steps = Course.Budget(1200, 60),
        BatchSize = Course.Budget(32, 16),
        LearningRate = 1e-3f,
        MinLearningRate = 1e-4f,
        EvalInterval = Course.Budget(100, 20),
        EvalExamples = Course.Budget(140, 32),
        Progress = progress,
    };

    public static ChatModel LoadOrTrain(TextWriter? log = null, Action<TrainingProgress>? progress = null)
    {
        log ??= Console.Out;
        var path = ChatModel.FineTunedPath();
        if (File.Exists(path))
        {
            var loaded = ChatModel.Load(path);
            log.WriteLine($"Fine-tuned chat model loaded from {path}.");
            return loaded;
        }
        log.WriteLine($"No fine-tuned chat model at {path}: fine-tuning one here, as lesson 06 does.");
        var clock = Stopwatch.StartNew();
        var pretrained = BaseModel.LoadOrTrain(progress: null, log: log);
        var examples = InstructionTasks.Load();
        var model = ChatModel.FromPretrained(pretrained.Model, InstructionTasks.Characters(examples));
        var trainer = new SftTrainer(model, examples.Where(e => e.Split == InstructionTasks.Train),
            examples.Where(e => e.Split == InstructionTasks.Validation), DefaultOptions(progress));
        var history = trainer.Run();
        model.Save(path, new Dictionary<string, string>
        {
            ["base"] = pretrained.Path,
            ["steps"] = trainer.Step.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["validation_response_loss"] = (history.LastEvaluation?.ValidationLoss ?? double.NaN).ToString("F4", System.Globalization.CultureInfo.InvariantCulture),
        });
        log.WriteLine($"Fine-tuned in {clock.Elapsed.TotalSeconds:F0} s (validation response loss {history.LastEvaluation?.ValidationLoss:F3}); saved to {path}.");
        return model;
    }
}
