using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace LlmCourse.Charts;

/// <summary>
/// A live view of a training run: a progress line (step, losses, perplexities, tokens per second,
/// elapsed time and ETA) over two charts, loss and perplexity (log scale) against step. It takes
/// plain numbers, so any loop can feed it; display it once, record as training goes, update the
/// display every so often:
/// <code>
/// var live = new TrainingChart("GPT on TinyShakespeare", totalSteps);
/// var shown = display(live);
/// for (var step = 1; step &lt;= totalSteps; step++)
/// {
///     var loss = TrainStep();
///     live.Record(step, loss, tokensPerSecond: tokensPerStep / seconds);
///     if (step % 50 == 0) { live.RecordValidation(step, Evaluate()); shown.Update(live); }
/// }
/// shown.Update(live);
/// </code>
/// Recording is thread-safe: a trainer may record from its own thread while the view is drawn.
/// </summary>
public sealed class TrainingChart : View
{
    readonly Lock gate = new();
    readonly List<(int Step, double Loss)> train = [];
    readonly List<(int Step, double Loss)> validation = [];
    readonly Func<TimeSpan> clock;
    TimeSpan? startedAt;
    int? firstStep;
    double? tokensPerSecond;

    public TrainingChart(string title, int totalSteps) : this(title, totalSteps, StartClock())
    {
    }

    static Func<TimeSpan> StartClock()
    {
        var stopwatch = Stopwatch.StartNew();
        return () => stopwatch.Elapsed;
    }

    /// <summary>With a clock of one's own, for tests.</summary>
    internal TrainingChart(string title, int totalSteps, Func<TimeSpan> clock)
    {
        if (totalSteps <= 0)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, $"TrainingChart '{title}': totalSteps must be positive.");
        Title = title;
        TotalSteps = totalSteps;
        this.clock = clock;
    }

    public string Title { get; }
    public int TotalSteps { get; }

    /// <summary>What the loss is, for the axis: cross-entropy in nats per token unless told otherwise.</summary>
    public string LossLabel { get; set; } = "loss (nats/token)";

    /// <summary>Draw the perplexity chart and show perplexities in the progress line (off for losses that are not cross-entropies).</summary>
    public bool ShowPerplexity { get; set; } = true;

    /// <summary>EMA weight for the train curve (see <see cref="LineChart.Smoothing"/>); 0 draws it as recorded.</summary>
    public double Smoothing { get; set; }

    public IReadOnlyList<(int Step, double Loss)> Train { get { lock (gate) return train.ToArray(); } }

    public IReadOnlyList<(int Step, double Loss)> Validation { get { lock (gate) return validation.ToArray(); } }

    public int LastStep { get { lock (gate) return train.Count == 0 ? 0 : train[^1].Step; } }

    public bool IsComplete => LastStep >= TotalSteps;

    /// <summary>Records one step's train loss, and optionally a validation loss and the throughput.</summary>
    public void Record(int step, double trainLoss, double? validationLoss = null, double? tokensPerSecond = null)
    {
        lock (gate)
        {
            if (train.Count > 0 && step < train[^1].Step)
                throw new ArgumentException($"TrainingChart '{Title}': step {step} recorded after step {train[^1].Step}.");
            startedAt ??= clock();
            firstStep ??= step;
            train.Add((step, trainLoss));
            if (validationLoss is { } v) validation.Add((step, v));
            if (tokensPerSecond is { } t) this.tokensPerSecond = t;
        }
    }

    public void RecordValidation(int step, double validationLoss)
    {
        lock (gate) validation.Add((step, validationLoss));
    }

    /// <summary>Time since the first record, and the estimate of what is left from the pace since then.</summary>
    public (TimeSpan Elapsed, TimeSpan? Remaining) Timing()
    {
        lock (gate)
        {
            if (startedAt is null || train.Count == 0) return (TimeSpan.Zero, null);
            var elapsed = clock() - startedAt.Value;
            var done = train[^1].Step - firstStep!.Value;
            if (done <= 0) return (elapsed, null);
            var remaining = TimeSpan.FromTicks((long)(elapsed.Ticks * (double)(TotalSteps - train[^1].Step) / done));
            return (elapsed, remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining);
        }
    }

    /// <summary>"step 1,200/5,000 (24%) · train loss 1.845 (ppl 6.33) · val loss 1.902 (ppl 6.70) · 41.2k tok/s · 0:35 elapsed · ETA 1:51".</summary>
    public string ProgressLine()
    {
        (int Step, double Loss)? lastTrain, lastValidation;
        double? throughput;
        lock (gate)
        {
            lastTrain = train.Count == 0 ? null : train[^1];
            lastValidation = validation.Count == 0 ? null : validation[^1];
            throughput = tokensPerSecond;
        }
        if (lastTrain is null) return $"{Title}: waiting for the first step of {TotalSteps.ToString("N0", CultureInfo.InvariantCulture)}";
        var (elapsed, remaining) = Timing();
        var step = lastTrain.Value.Step;
        var parts = new List<string>
        {
            $"step {step.ToString("N0", CultureInfo.InvariantCulture)}/{TotalSteps.ToString("N0", CultureInfo.InvariantCulture)} ({Math.Min(100, 100.0 * step / TotalSteps):0}%)",
            $"train loss {Loss(lastTrain.Value.Loss, ShowPerplexity)}",
        };
        if (lastValidation is { } v) parts.Add($"val loss {Loss(v.Loss, ShowPerplexity)}");
        if (throughput is { } t) parts.Add($"{Svg.Number(t, 3)} tok/s");
        parts.Add($"{Duration(elapsed)} elapsed");
        if (step >= TotalSteps) parts.Add("done");
        else if (remaining is { } r) parts.Add($"ETA {Duration(r)}");
        return string.Join(" · ", parts);
    }

    static string Loss(double loss, bool perplexity) =>
        loss.ToString(Math.Abs(loss) < 0.01 && loss != 0 ? "0.000e0" : "0.000", CultureInfo.InvariantCulture) +
        (perplexity ? $" (ppl {Svg.Number(Math.Exp(loss), 4)})" : "");

    static string Duration(TimeSpan span) => span.TotalHours >= 1
        ? $"{(int)span.TotalHours}:{span.Minutes:00}:{span.Seconds:00}"
        : $"{span.Minutes}:{span.Seconds:00}";

    /// <summary>Loss against step: train (smoothed if asked) and validation.</summary>
    public LineChart LossChart()
    {
        var (trainPoints, validationPoints) = Snapshot();
        var chart = new LineChart($"{Title}: loss", "step", LossLabel) { Width = 520, Height = 340, Smoothing = Smoothing };
        chart.Add("train", trainPoints.Select(p => p.Step), trainPoints.Select(p => p.Loss));
        if (validationPoints.Length > 0)
            chart.Add("validation", validationPoints.Select(p => p.Step), validationPoints.Select(p => p.Loss), SeriesStyle.LinesAndMarkers);
        return chart;
    }

    /// <summary>Perplexity (e^loss) against step on a log axis: the "how many choices is it torn between" view.</summary>
    public LineChart PerplexityChart()
    {
        var (trainPoints, validationPoints) = Snapshot();
        var chart = new LineChart($"{Title}: perplexity", "step", "perplexity") { Width = 520, Height = 340, LogY = true, Smoothing = Smoothing };
        chart.Add("train", trainPoints.Select(p => p.Step), trainPoints.Select(p => Math.Exp(p.Loss)));
        if (validationPoints.Length > 0)
            chart.Add("validation", validationPoints.Select(p => p.Step), validationPoints.Select(p => Math.Exp(p.Loss)), SeriesStyle.LinesAndMarkers);
        return chart;
    }

    ((int Step, double Loss)[] Train, (int Step, double Loss)[] Validation) Snapshot()
    {
        lock (gate) return (train.ToArray(), validation.ToArray());
    }

    /// <summary>Loss and (when shown) perplexity side by side, as Plotly.NET charts (see <see cref="Chart.ToPlotly"/>).</summary>
    public Plotly.NET.GenericChart ToPlotly()
    {
        var loss = LossChart();
        if (!ShowPerplexity) return loss.ToPlotly();
        var perplexity = PerplexityChart();
        return PlotlyConversion.SideBySide([loss.ToPlotly(), perplexity.ToPlotly()], loss.Width + perplexity.Width, loss.Height);
    }

    public override string ToHtml()
    {
        var percent = Math.Min(100, 100.0 * LastStep / TotalSteps);
        var html = new StringBuilder("<div class=\"llmcourse-training\" style=\"font-family:").Append(Svg.FontFamily).Append("\">");
        html.Append("<div style=\"font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:14px;margin:4px 0\">")
            .Append(WebUtility.HtmlEncode(ProgressLine())).Append("</div>");
        html.Append("<div style=\"background:#e6e6e6;height:6px;border-radius:3px;max-width:1048px;margin-bottom:6px\">")
            .Append($"<div style=\"background:{Palette.Series[0]};height:6px;border-radius:3px;width:{percent.ToString("0.#", CultureInfo.InvariantCulture)}%\"></div></div>");
        html.Append("<div style=\"display:flex;flex-wrap:wrap;gap:8px\">").Append(LossChart().ToSvg())
            .Append(ShowPerplexity ? PerplexityChart().ToSvg() : "").Append("</div>");
        return html.Append("</div>").ToString();
    }

    public override string ToString() => ProgressLine();
}
