using System.Globalization;
using LlmCourse.Tensors;
using LlmCourse.Tensors.NN;
using LlmCourse.Tensors.Optim;
using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Bench;

/// <summary>
/// One training step (forward, backward, gradient clipping, AdamW) of a small nanoGPT, ours against
/// PyTorch's on the same shapes and threads (bench/anchors/train_step.py), milliseconds. The model
/// here is a compact copy of nanoGPT's, written with the engine. Options: <c>--layers</c> (4),
/// <c>--heads</c> (4), <c>--embd</c> (128), <c>--block</c> (128), <c>--batch</c> (16), <c>--vocab</c> (65),
/// <c>--seconds</c> (3), <c>--skip-anchor</c> (ours only, e.g. under a profiler).
/// </summary>
public sealed class TrainStepBenchmark : Benchmark
{
    public override string Name => "train-step";
    public override string Description => "small nanoGPT training step (fwd+bwd+AdamW) vs PyTorch, ms";

    // Letters: B batch, T time, C channels, H heads, V vocabulary.
    sealed class Block : Module
    {
        readonly int heads;
        readonly LayerNorm ln1, ln2;
        readonly Linear attn, proj, fc, mlpProj;

        public Block(int embd, int heads, Generator g)
        {
            this.heads = heads;
            ln1 = Register("ln_1", new LayerNorm(embd));
            attn = Register("c_attn", new Linear(embd, 3 * embd, generator: g));
            proj = Register("c_proj", new Linear(embd, embd, generator: g));
            ln2 = Register("ln_2", new LayerNorm(embd));
            fc = Register("c_fc", new Linear(embd, 4 * embd, generator: g));
            mlpProj = Register("mlp_proj", new Linear(4 * embd, embd, generator: g));
        }

        public Tensor Forward(Tensor x)
        {
            int B = x.Size(0), T = x.Size(1), C = x.Size(2);
            var qkv = attn.Forward(ln1.Forward(x)).Split(C, 2);                             // 3 x (B, T, C)
            Tensor Heads(Tensor t) => t.View(B, T, heads, C / heads).Transpose(1, 2);      // (B, H, T, D)
            var y = F.ScaledDotProductAttention(Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]), isCausal: true);
            x = x + proj.Forward(y.Transpose(1, 2).Reshape(B, T, C));
            return x + mlpProj.Forward(fc.Forward(ln2.Forward(x)).Gelu());
        }
    }

    sealed class Gpt : Module
    {
        readonly Embedding wte, wpe;
        readonly ModuleList<Block> blocks;
        readonly LayerNorm lnF;
        readonly Linear head;
        readonly int vocab;

        public Gpt(int layers, int heads, int embd, int block, int vocab, Generator g)
        {
            this.vocab = vocab;
            wte = Register("wte", new Embedding(vocab, embd, g));
            wpe = Register("wpe", new Embedding(block, embd, g));
            blocks = Register("blocks", new ModuleList<Block>(Enumerable.Range(0, layers).Select(_ => new Block(embd, heads, g))));
            lnF = Register("ln_f", new LayerNorm(embd));
            head = Register("lm_head", new Linear(embd, vocab, bias: false, generator: g));
            head.Weight = wte.Weight;
        }

        public Tensor Loss(Tensor idx, Tensor targets)
        {
            var T = idx.Size(1);
            var x = wte.Forward(idx) + wpe.Forward(Tensor.Arange(T));
            foreach (var b in blocks) x = b.Forward(x);
            var logits = head.Forward(lnF.Forward(x));                                       // (B, T, V)
            return F.CrossEntropy(logits, targets);
        }
    }

    public override BenchResult Run(BenchOptions options)
    {
        int layers = options.Int("layers", 4), heads = options.Int("heads", 4), embd = options.Int("embd", 128),
            block = options.Int("block", 128), batch = options.Int("batch", 16), vocab = options.Int("vocab", 65);
        var seconds = double.Parse(options.String("seconds", "3"), CultureInfo.InvariantCulture);
        var g = new Generator(0);
        var model = new Gpt(layers, heads, embd, block, vocab, g);
        var optimizer = new AdamW(model.Parameters(), lr: 3e-4f, weightDecay: 0.1f);
        var idx = Tensor.RandInt(0, vocab, [batch, block], g);
        var targets = Tensor.RandInt(0, vocab, [batch, block], g);
        float Step()
        {
            using var scope = TensorScope.Begin();
            optimizer.ZeroGrad();
            var loss = model.Loss(idx, targets);
            loss.Backward();
            GradClip.ClipGradNorm(model.Parameters(), 1f);
            optimizer.Step();
            return loss.Item();
        }
        for (var i = 0; i < 3; i++) Step();
        var best = double.MaxValue;
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            Step();
            best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        Console.WriteLine($"ours: {model.ParameterCount()} parameters, best {best:F2} ms per step");
        if (options.Flag("skip-anchor")) return new BenchResult(Name, best, double.NaN, "ms per step", HigherIsBetter: false);
        var anchor = RunAnchor(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", "train_step.py",
            $"{layers}", $"{heads}", $"{embd}", $"{block}", $"{batch}", $"{vocab}", $"{options.Threads}", $"{seconds}");
        return new BenchResult(Name, best, anchor, "ms per step", HigherIsBetter: false);
    }
}
