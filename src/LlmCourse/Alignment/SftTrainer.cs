using LlmCourse.Tensors.Formatting;
using System.Diagnostics;
using LlmCourse.Tensors;
using LlmCourse.Tensors.Optim;
using LlmCourse.Training;

namespace LlmCourse.Alignment;

/// <summary>
/// How to fine-tune. Defaults: a fine-tuning learning rate (3e-4, a third of the pretraining one, with
/// a short warmup and cosine decay), no weight decay (the weights should stay near the pretrained
/// ones, not near zero), batches of 16 conversations, the prompt masked out of the loss.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record SftOptions
{
    public int Steps { get; init; } = 600;
    public int BatchSize { get; init; } = 16;
    public float LearningRate { get; init; } = 3e-4f;
    public float MinLearningRate { get; init; } = 3e-5f;
    public int WarmupSteps { get; init; } = 20;
    public float WeightDecay { get; init; }
    public float GradClip { get; init; } = 1f;
    /// <summary>Only the assistant's tokens are targets (true), or every token of the conversation (the ablation).</summary>
    public bool MaskPrompt { get; init; } = true;
    /// <summary>Evaluate the response loss every this many steps (and at the first and last).</summary>
    public int EvalInterval { get; init; } = 50;
    /// <summary>At most this many validation (and training) conversations per evaluation.</summary>
    public int EvalExamples { get; init; } = 140;
    public ulong Seed { get; init; } = 6;
    public Action<TrainingProgress>? Progress { get; init; }
}

/// <summary>
/// Supervised fine-tuning: the course's training loop (<see cref="Trainer"/>) with conversations instead
/// of windows of text. One step: the learning rate from the schedule, a batch of conversations from a
/// seeded shuffle (each epoch a new order), the chat collator (padding, −100 outside the answers),
/// forward, the masked cross-entropy, backward, gradient clipping, AdamW on the trainable parameters
/// (all of the GPT, or only LoRA's adapters). Evaluations measure the response loss (the answers'
/// tokens only, whatever <see cref="SftOptions.MaskPrompt"/> says, so the ablation is comparable) on
/// fixed training and validation conversations.
/// </summary>
public sealed class SftTrainer
{
    readonly ChatModel model;
    readonly Tensor[] parameters;
    readonly AdamW optimizer;
    readonly LrSchedule schedule;
    readonly ChatCollator collator;
    readonly RenderedConversation[] train, trainEval, validationEval;
    int[] order = [];

    /// <param name="trainable">The parameters to train; null: every parameter of the GPT that requires grad.</param>
    public SftTrainer(ChatModel model, IEnumerable<InstructionExample> train, IEnumerable<InstructionExample> validation,
        SftOptions? options = null, IEnumerable<Tensor>? trainable = null)
        : this(model, train.Select(e => e.Conversation), validation.Select(e => e.Conversation), options, trainable) { }

    /// <summary>Fine-tunes on whole conversations (several turns each: every assistant turn is learned).</summary>
    public SftTrainer(ChatModel model, IEnumerable<IReadOnlyList<ChatMessage>> train, IEnumerable<IReadOnlyList<ChatMessage>> validation,
        SftOptions? options = null, IEnumerable<Tensor>? trainable = null)
    {
        Options = options ??= new SftOptions();
        if (options.Steps < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Steps, "SftTrainer: steps must be 0 or more.");
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "SftTrainer: the batch needs at least one conversation.");
        this.model = model;
        this.train = train.Select(model.Template.Render).ToArray();
        if (this.train.Length == 0) throw new ArgumentException("SftTrainer: no training examples.", nameof(train));
        validationEval = validation.Take(options.EvalExamples).Select(model.Template.Render).ToArray();
        if (validationEval.Length == 0) throw new ArgumentException("SftTrainer: no validation examples.", nameof(validation));
        var pick = new Random((int)options.Seed);
        trainEval = this.train.OrderBy(_ => pick.Next()).Take(validationEval.Length).ToArray();

        parameters = (trainable ?? model.Gpt.Parameters().Where(p => p.RequiresGrad)).ToArray();
        if (parameters.Length == 0) throw new ArgumentException("SftTrainer: nothing to train (every parameter is frozen).", nameof(trainable));
        optimizer = new AdamW(
            [new ParamGroup(parameters.Where(p => p.Rank >= 2), weightDecay: options.WeightDecay),
             new ParamGroup(parameters.Where(p => p.Rank < 2), weightDecay: 0f)],
            lr: options.LearningRate, beta1: 0.9f, beta2: 0.99f, eps: 1e-8f, weightDecay: options.WeightDecay);
        schedule = new WarmupCosineLr(options.LearningRate, options.MinLearningRate, Math.Min(options.WarmupSteps, options.Steps), Math.Max(options.Steps, 1));
        collator = new ChatCollator(model.Template, model.ContextLength, options.MaskPrompt);
    }

    public SftOptions Options { get; }
    public TrainingHistory History { get; } = new();
    public int Step { get; private set; }

    /// <summary>How many numbers are trained.</summary>
    public long TrainableParameters => parameters.Sum(p => p.Count);

    /// <summary>The optimizer's state (AdamW's two moments per trained number), in bytes, as it stands.</summary>
    public long OptimizerStateBytes => optimizer.StateDict().Values.Sum(t => t.Count * 4L);

    public TrainingHistory Run(int? untilStep = null)
    {
        var target = untilStep ?? Options.Steps;
        var clock = Stopwatch.StartNew();
        var elapsedBefore = History.Elapsed;
        if (Step == 0 && History.Evaluations.Count == 0) Evaluate();
        while (Step < target)
        {
            var stepClock = Stopwatch.StartNew();
            var (loss, lr, norm, tokens) = TakeStep();
            var tokensPerSecond = tokens / Math.Max(stepClock.Elapsed.TotalSeconds, 1e-9);
            History.Steps.Add(new StepRecord(Step, loss, lr, norm, tokensPerSecond));
            History.Elapsed = elapsedBefore + clock.Elapsed;
            EvalRecord? eval = null;
            if ((Options.EvalInterval > 0 && Step % Options.EvalInterval == 0) || Step == Options.Steps) eval = Evaluate();
            Options.Progress?.Invoke(new TrainingProgress(Step, Options.Steps, loss, lr, norm, tokensPerSecond,
                History.Elapsed, eval?.TrainLoss, eval?.ValidationLoss));
        }
        return History;
    }

    (double Loss, double LearningRate, double GradientNorm, int Tokens) TakeStep()
    {
        var lr = schedule.At(Step);
        optimizer.LearningRate = lr;
        using var scope = TensorScope.Begin();
        var batch = collator.Collate(NextBatch());
        Generator.Default.Seed(Options.Seed * 1_000_003UL + (ulong)Step);   // this step's dropout masks, if any
        var loss = model.Gpt.Loss(batch.Inputs, batch.Targets);            // mean over the counted targets
        var lossValue = (double)loss.Item();
        if (!double.IsFinite(lossValue)) throw new NonFiniteLossException(Step + 1, "loss", lossValue, Step, History.Steps.Count > 0 ? History.Steps[^1].Loss : double.NaN);
        optimizer.ZeroGrad();
        loss.Backward();
        var norm = Options.GradClip > 0
            ? GradClip.ClipGradNorm(parameters, Options.GradClip)
            : GradClip.GradNorm(parameters);
        optimizer.Step();
        Step++;
        return (lossValue, lr, norm, batch.Lengths.Sum());
    }

    /// <summary>The step's conversations: the next <see cref="SftOptions.BatchSize"/> of a shuffled pass over the data, reshuffled each pass.</summary>
    IReadOnlyList<RenderedConversation> NextBatch()
    {
        var batch = new RenderedConversation[Options.BatchSize];
        for (var i = 0; i < batch.Length; i++)
        {
            var position = Step * Options.BatchSize + i;
            var epoch = position / train.Length;
            if (position % train.Length == 0 || order.Length == 0)
            {
                var random = new Random((int)(Options.Seed + (ulong)epoch * 7919));
                order = Enumerable.Range(0, train.Length).OrderBy(_ => random.Next()).ToArray();
            }
            batch[i] = train[order[position % train.Length]];
        }
        return batch;
    }

    /// <summary>Response loss on the fixed training and validation conversations, recorded in the history.</summary>
    public EvalRecord Evaluate()
    {
        var record = new EvalRecord(Step, ResponseLoss(trainEval), ResponseLoss(validationEval));
        History.Evaluations.RemoveAll(e => e.Step == Step);
        History.Evaluations.Add(record);
        return record;
    }

    /// <summary>Mean cross-entropy per answer token (nats), over the conversations' assistant tokens only.</summary>
    public double ResponseLoss(IReadOnlyList<RenderedConversation> conversations) => ResponseLoss(model, conversations, Options.BatchSize);

    public static double ResponseLoss(ChatModel model, IReadOnlyList<RenderedConversation> conversations, int batchSize = 32)
    {
        var collator = new ChatCollator(model.Template, model.ContextLength, maskPrompt: true);
        using var inference = model.Gpt.Inference();
        double nats = 0;
        long counted = 0;
        for (var start = 0; start < conversations.Count; start += batchSize)
        {
            using var scope = TensorScope.Begin();
            var batch = collator.Collate(conversations.Skip(start).Take(batchSize).ToArray());
            var n = batch.CountedTargets;
            nats += model.Gpt.Loss(batch.Inputs, batch.Targets).Item() * n;
            counted += n;
        }
        return nats / counted;
    }
}
