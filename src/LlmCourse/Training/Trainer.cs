using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;
using LlmCourse.Tensors.Optim;

namespace LlmCourse.Training;

/// <summary>
/// The training loop every neural model of the course uses. One step: set the learning rate from
/// the schedule, draw a batch, forward, backward, clip the gradient, take an AdamW step. Every
/// <see cref="TrainingOptions.EvalInterval"/> steps, the loss on fixed train and validation
/// batches. Every random choice of step s (its batch, its dropout masks from
/// <see cref="Generator.Default"/>, which the trainer reseeds before each step) depends only on the
/// seed and s, so a checkpoint (the model, the optimizer's moments, the step and the history) is
/// enough for a resumed run to take exactly the steps the uninterrupted one would have.
/// </summary>
public sealed class Trainer
{
    readonly INeuralLanguageModel model;
    readonly Module module;
    readonly Tensor[] parameters;
    readonly AdamW optimizer;
    readonly LrSchedule schedule;
    readonly TokenBatches batches;
    readonly (Tensor Inputs, Tensor Targets)[] trainEval, validationEval;
    readonly GradScaler? scaler;
    int lastFiniteStep;
    double lastFiniteLoss = double.NaN;

    public Trainer(INeuralLanguageModel model, int[] trainTokens, int[] validationTokens, TrainingOptions? options = null)
        : this(model, new ArrayTokenSource(trainTokens), new ArrayTokenSource(validationTokens), options)
    {
    }

    /// <summary>Trains on windows drawn from any token source, for example a memory-mapped <see cref="LlmCourse.Data.TokenShard"/>.</summary>
    public Trainer(INeuralLanguageModel model, ITokenSource trainTokens, ITokenSource validationTokens, TrainingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Options = options ??= new TrainingOptions();
        if (options.Steps < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Steps, "Trainer: steps must be 0 or more.");
        if (options.Autocast is { } precision && precision is not (DType.BFloat16 or DType.Float16 or DType.Float32))
            throw new ArgumentException($"Trainer: Autocast must be BFloat16, Float16 or Float32, not {precision}.", nameof(options));
        if (options.GradientAccumulationSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.GradientAccumulationSteps, "Trainer: GradientAccumulationSteps must be 1 or more.");
        if (options.EvalBatches < 1) throw new ArgumentOutOfRangeException(nameof(options), options.EvalBatches, "Trainer: evaluation needs at least one batch (EvalBatches).");
        if (options.BatchOrder == BatchOrder.Sequential && model is not IStatefulLanguageModel)
            throw new ArgumentException($"Trainer: sequential batches carry a recurrent state, which {model.Name} does not have.", nameof(options));
        this.model = model;
        module = model.Module;
        parameters = module.Parameters().ToArray();
        optimizer = CreateOptimizer(module, options);
        // float16's range ends at 65,504 and its normal numbers at 6e-5: its gradients need loss scaling.
        if (options.Autocast == DType.Float16) scaler = new GradScaler(initialScale: options.InitialGradScale);
        // A short run (quick mode) warms up for at most its whole length.
        var decaySteps = options.DecaySteps ?? options.Steps;
        schedule = new WarmupCosineLr(options.LearningRate, options.MinLearningRate, Math.Min(options.WarmupSteps, decaySteps), decaySteps);
        var blockSize = options.BlockSize ?? model.ContextLength;
        batches = new TokenBatches(trainTokens, options.BatchSize, blockSize, options.BatchOrder, options.Seed);
        // Evaluation batches are drawn once, from their own seeds, so every evaluation measures the same windows.
        trainEval = new TokenBatches(trainTokens, options.BatchSize, blockSize, BatchOrder.RandomWindows, options.Seed + 1).Take(options.EvalBatches);
        validationEval = new TokenBatches(validationTokens, options.BatchSize, blockSize, BatchOrder.RandomWindows, options.Seed + 2).Take(options.EvalBatches);
    }

    public TrainingOptions Options { get; }
    public TrainingHistory History { get; private set; } = new();

    /// <summary>Tokens one optimizer step reads: batch × block × accumulation steps.</summary>
    public long TokensPerStep => (long)Options.BatchSize * batches.BlockSize * Options.GradientAccumulationSteps;

    /// <summary>Steps taken so far.</summary>
    public int Step { get; private set; }

    /// <summary>The loss scaler of a float16 run (its <see cref="GradScaler.CurrentScale"/> and skipped steps); null otherwise.</summary>
    public GradScaler? Scaler => scaler;

    /// <summary>AdamW with weight decay on the matrices (weights, embeddings) and none on biases and
    /// norm gains, which are vectors (nanoGPT's configure_optimizers).</summary>
    public static AdamW CreateOptimizer(Module module, TrainingOptions options)
    {
        var all = module.Parameters().ToArray();
        return new AdamW(
            [new ParamGroup(all.Where(p => p.Rank >= 2), weightDecay: options.WeightDecay),
             new ParamGroup(all.Where(p => p.Rank < 2), weightDecay: 0f)],
            lr: options.LearningRate, beta1: options.Beta1, beta2: options.Beta2, eps: 1e-8f, weightDecay: options.WeightDecay);
    }

    /// <summary>Trains until <paramref name="untilStep"/> steps (default: <see cref="TrainingOptions.Steps"/>) have been taken.</summary>
    public TrainingHistory Run(int? untilStep = null)
    {
        var target = untilStep ?? Options.Steps;
        var clock = Stopwatch.StartNew();
        var elapsedBefore = History.Elapsed;
        if (Step == 0 && History.Evaluations.Count == 0) Evaluate();
        while (Step < target)
        {
            var stepClock = Stopwatch.StartNew();
            var (loss, lr, norm, times, skipped) = TakeStep();
            var tokensPerSecond = TokensPerStep / Math.Max(stepClock.Elapsed.TotalSeconds, 1e-9);
            double? mfu = Options.FlopsPerToken is { } flops && Options.PeakFlops is { } peak ? flops * tokensPerSecond / peak : null;
            History.Steps.Add(new StepRecord(Step, loss, lr, norm, tokensPerSecond, mfu, times, skipped));
            History.Elapsed = elapsedBefore + clock.Elapsed;

            EvalRecord? eval = null;
            if ((Options.EvalInterval > 0 && Step % Options.EvalInterval == 0) || Step == Options.Steps) eval = Evaluate();
            if (Options.CheckpointPath is { } path && Options.CheckpointInterval > 0 && Step % Options.CheckpointInterval == 0)
                SaveCheckpoint(path);
            Options.Progress?.Invoke(new TrainingProgress(Step, Options.Steps, loss, lr, norm, tokensPerSecond,
                History.Elapsed, eval?.TrainLoss, eval?.ValidationLoss, mfu, times));
        }
        return History;
    }

    /// <summary>
    /// One optimizer step: <see cref="TrainingOptions.GradientAccumulationSteps"/> micro-batches, each
    /// loss scaled by 1/k before its backward pass so the summed gradient is the gradient of the mean loss
    /// over all k batches (what one batch k times larger would give), then clipping and one AdamW update.
    /// Micro-batch j of step s is batch s·k + j, so k = 1 draws exactly the batches it always did.
    /// In a float16 run each backward pass starts from the loss times the scaler's scale; the gradients are
    /// unscaled before clipping, and a step whose gradients overflowed is skipped (no update; the scale halves).
    /// </summary>
    (double Loss, double LearningRate, double GradientNorm, StepTimes Times, bool Skipped) TakeStep()
    {
        var lr = schedule.At(Step);
        optimizer.LearningRate = lr;
        using var scope = TensorScope.Begin();
        var stateful = Options.BatchOrder == BatchOrder.Sequential ? (IStatefulLanguageModel)model : null;
        var accumulation = Options.GradientAccumulationSteps;
        var clock = Stopwatch.StartNew();
        double data = 0, forward = 0, backward = 0, lossSum = 0;
        optimizer.ZeroGrad();
        using var precision = MixedPrecision();
        for (var micro = 0; micro < accumulation; micro++)
        {
            var index = Step * accumulation + micro;
            var t0 = clock.Elapsed.TotalSeconds;
            if (stateful is not null && batches.StartsPass(index)) stateful.ResetState();
            var (inputs, targets) = OnModelDevice(batches.Batch(index));
            var t1 = clock.Elapsed.TotalSeconds;
            Generator.Default.Seed(TokenBatches.StepSeed(~Options.Seed, index));   // this micro-batch's dropout masks
            var loss = stateful is not null ? stateful.LossCarryingState(inputs, targets) : model.Loss(inputs, targets);
            var lossValue = (double)loss.Item();   // reading the value waits for the forward pass to finish
            var t2 = clock.Elapsed.TotalSeconds;
            if (!double.IsFinite(lossValue)) throw new NonFiniteLossException(Step + 1, "loss", lossValue, lastFiniteStep, lastFiniteLoss);
            var share = accumulation == 1 ? loss : loss * (1f / accumulation);
            (scaler is null ? share : scaler.Scale(share)).Backward();
            var t3 = clock.Elapsed.TotalSeconds;
            data += t1 - t0;
            forward += t2 - t1;
            backward += t3 - t2;
            lossSum += lossValue;
        }

        precision?.Dispose();   // clipping and the AdamW update run in float32 on the master weights
        var t4 = clock.Elapsed.TotalSeconds;
        using var optimizerSection = OpProfiler.Section(OpProfiler.OptimizerSection);
        scaler?.Unscale(optimizer);
        var overflow = scaler is { FoundNonFinite: true };
        var norm = overflow ? float.PositiveInfinity
            : Options.GradClip > 0 ? GradClip.ClipGradNorm(parameters, Options.GradClip)
            : GradClip.GradNorm(parameters);
        if (!float.IsFinite(norm) && scaler is null) throw new NonFiniteLossException(Step + 1, "gradient norm", norm, lastFiniteStep, lastFiniteLoss);
        if (scaler is null) optimizer.Step();
        else
        {
            scaler.Step(optimizer);   // skipped when the gradients overflowed
            scaler.Update();
        }
        if (stateful is not null) foreach (var s in stateful.CarriedState) scope.Keep(s);
        var times = new StepTimes(data, forward, backward, clock.Elapsed.TotalSeconds - t4);

        var meanLoss = lossSum / accumulation;
        Step++;
        lastFiniteStep = Step;
        lastFiniteLoss = meanLoss;
        return (meanLoss, lr, norm, times, overflow);
    }

    /// <summary>The autocast scope the options ask for, or null for float32.</summary>
    Autocast? MixedPrecision() => Options.Autocast switch
    {
        DType.BFloat16 => Autocast.BFloat16(),
        DType.Float16 => Autocast.Float16(),
        _ => null,
    };

    /// <summary>The batch on the device the model's parameters live on (a no-op on the CPU).</summary>
    (Tensor Inputs, Tensor Targets) OnModelDevice((Tensor Inputs, Tensor Targets) batch)
    {
        var device = parameters.Length > 0 ? parameters[0].Device : Device.Cpu;
        return device.Equals(batch.Inputs.Device) ? batch : (batch.Inputs.To(device), batch.Targets.To(device));
    }

    /// <summary>Mean loss on the fixed train and validation batches, recorded in the history.</summary>
    public EvalRecord Evaluate()
    {
        var record = new EvalRecord(Step, MeanLoss(trainEval), MeanLoss(validationEval));
        History.Evaluations.RemoveAll(e => e.Step == Step);
        History.Evaluations.Add(record);
        return record;
    }

    double MeanLoss((Tensor Inputs, Tensor Targets)[] evalBatches)
    {
        using var inference = module.Inference();
        using var precision = MixedPrecision();   // evaluate in the precision the model trains in
        double sum = 0;
        foreach (var batch in evalBatches)
        {
            using var scope = TensorScope.Begin();
            var (inputs, targets) = OnModelDevice(batch);
            sum += model.Loss(inputs, targets).Item();
        }
        return sum / evalBatches.Length;
    }

    // ---- checkpoints ----

    const string Format = "llmcourse-trainer-1";

    // A float16 run's skipped steps record an infinite gradient norm, which JSON has no number for.
    static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Writes model, optimizer, generators, step and history to one safetensors file (atomically).</summary>
    public void SaveCheckpoint(string path)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, t) in module.StateDict()) tensors["model." + name] = t;
        foreach (var (name, t) in optimizer.StateDict()) tensors["optimizer." + name] = t;
        if (model is IStatefulLanguageModel stateful)
            for (var i = 0; i < stateful.CarriedState.Length; i++) tensors[$"carried.{i}"] = stateful.CarriedState[i];
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["model"] = model.Name,
            ["step"] = Step.ToString(CultureInfo.InvariantCulture),
            ["last_finite"] = FormattableString.Invariant($"{lastFiniteStep},{lastFiniteLoss:R}"),
            ["history"] = JsonSerializer.Serialize(History, Json),
        };
        if (scaler is not null)
            metadata["grad_scaler"] = FormattableString.Invariant($"{scaler.CurrentScale:R},{scaler.GrowthTracker}");
        try
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null) Directory.CreateDirectory(directory);
            Safetensors.Save(path, tensors, metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Safetensors.Save writes a temporary file and renames it: a checkpoint already at the path is untouched.
            throw new IOException(
                $"Trainer: the checkpoint of step {Step} could not be written to {path} ({e.Message.TrimEnd('.')}). " +
                $"{(File.Exists(path) ? "The checkpoint already there is unchanged. " : "")}The training state in memory is intact: " +
                "free some space or choose a writable CheckpointPath, then call SaveCheckpoint again.", e);
        }
    }

    /// <summary>Continues from a checkpoint written by <see cref="SaveCheckpoint"/> for the same model and options.</summary>
    /// <remarks>
    /// Everything is checked before anything is loaded, so a checkpoint that does not fit (another model's,
    /// a file that is not a checkpoint, a truncated copy) throws <see cref="InvalidDataException"/> naming
    /// the file and the cause, and leaves the trainer as it was.
    /// </remarks>
    public void Resume(string path)
    {
        Dictionary<string, Tensor> tensors;
        Dictionary<string, string> metadata;
        try
        {
            (tensors, metadata) = Safetensors.LoadWithMetadata(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException(
                $"Trainer.Resume: {path} cannot be read as a checkpoint: it is truncated, damaged or not a safetensors file " +
                $"({e.Message}). Resume from an earlier checkpoint, or start the run again.", e);
        }
        if (metadata.GetValueOrDefault("format") != Format)
            throw new InvalidDataException($"Trainer.Resume: {path} is not a trainer checkpoint (format '{metadata.GetValueOrDefault("format")}', expected '{Format}'): " +
                                           "a file of model weights alone loads with model.Load(path), not Resume.");
        var problems = new List<string>();
        if (metadata.GetValueOrDefault("model") is { } saved && saved != model.Name)
            problems.Add($"it was written for the model '{saved}', this trainer trains '{model.Name}'");
        problems.AddRange(Mismatches(module.StateDict(), Strip(tensors, "model."), "model"));
        foreach (var key in new[] { "step", "last_finite", "history" })
            if (!metadata.ContainsKey(key)) problems.Add($"its metadata has no '{key}'");
        var moduleBefore = module.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        var optimizerBefore = optimizer.StateDict();
        if (problems.Count > 0)
            throw new InvalidDataException($"Trainer.Resume: {path} does not fit this trainer: {string.Join("; ", problems.Take(6))}" +
                                           $"{(problems.Count > 6 ? $" (and {problems.Count - 6} more)" : "")}. Resume with the model configuration and " +
                                           "options the checkpoint was written with, or start a new run.");
        module.LoadStateDict(Strip(tensors, "model."));
        try
        {
            optimizer.LoadStateDict(Strip(tensors, "optimizer."));
        }
        catch (ArgumentException e)   // TensorShapeException included
        {
            // The optimizer's state is created lazily, so it is checked by loading it: on failure put back
            // the optimizer and model state this trainer had, so nothing is half-resumed.
            optimizer.LoadStateDict(optimizerBefore);
            module.LoadStateDict(moduleBefore);
            throw new InvalidDataException($"Trainer.Resume: {path} does not fit this trainer's optimizer ({e.Message}). Resume with the " +
                                           "options the checkpoint was written with, or start a new run.", e);
        }
        if (model is IStatefulLanguageModel stateful)
            stateful.CarriedState = Strip(tensors, "carried.").OrderBy(kv => int.Parse(kv.Key, CultureInfo.InvariantCulture)).Select(kv => kv.Value).ToArray();
        Step = int.Parse(metadata["step"], CultureInfo.InvariantCulture);
        var last = metadata["last_finite"].Split(',');
        lastFiniteStep = int.Parse(last[0], CultureInfo.InvariantCulture);
        lastFiniteLoss = double.Parse(last[1], CultureInfo.InvariantCulture);
        History = JsonSerializer.Deserialize<TrainingHistory>(metadata["history"], Json) ?? new TrainingHistory();
        if (scaler is not null && metadata.GetValueOrDefault("grad_scaler")?.Split(',') is [var scale, var tracker])
            scaler.LoadState(float.Parse(scale, CultureInfo.InvariantCulture), int.Parse(tracker, CultureInfo.InvariantCulture));
    }

    /// <summary>Keys missing on either side and shapes that differ, as "model: h.0.attn.c_attn.weight is [384,128] in the file, [192,64] here".</summary>
    static IEnumerable<string> Mismatches(IReadOnlyDictionary<string, Tensor> own, Dictionary<string, Tensor> saved, string part)
    {
        foreach (var (key, t) in own)
        {
            if (!saved.TryGetValue(key, out var s)) yield return $"{part}: '{key}' is missing from the file";
            else if (!s.Shape.SequenceEqual(t.Shape))
                yield return $"{part}: '{key}' is [{string.Join(",", s.Shape)}] in the file, [{string.Join(",", t.Shape)}] here";
        }
        foreach (var key in saved.Keys.Where(k => !own.ContainsKey(k))) yield return $"{part}: the file has '{key}', which this {part} does not";
    }

    static Dictionary<string, Tensor> Strip(Dictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
}
