using LlmCourse.Tests.Cuda;
using LlmCourse.Tensors.Optim;
using F = LlmCourse.Tensors.Functional;
using static LlmCourse.Tensors.Tests.Cuda.Gpu;

namespace LlmCourse.Tensors.Tests.Cuda;

/// <summary>
/// Every CUDA kernel against the CPU backend (the reference), through the public ops so the op layer
/// runs on the GPU too: random inputs of odd sizes (37, 129, 1000003: never a multiple of a block),
/// transposed and sliced (strided) views and broadcast (stride-0) operands, forward and gradients.
/// Tolerances, |gpu - cpu| &lt;= atol + rtol |cpu| (gradients 10x, one more op deep):
/// - element-wise, float32: atol 1e-6, rtol 2e-5. CUDA's expf/logf/tanhf/erff are within 2 ulp, the CPU's
///   vectorised exp within a few; 2e-5 is ~150 ulp of headroom, far below a formula error (1e-3 and up).
/// - sums, rows (softmax, norms, cross-entropy), matrix products, attention: atol 1e-5, rtol 1e-4: sums of
///   up to ~1000 terms in another order (each term half an ulp, ~sqrt(n) of them in practice).
/// - selections (copies, max/argmax, top-k, gather, index_select), conversions, AdamW, autocast rounding:
///   exact, the same bits.
/// - bf16 autocast products: 1e-2 relative (one bf16 ulp, 2^-8, when a float32 sum in another order lands
///   on the other side of a bf16 rounding boundary).
/// Without a GPU every test skips, naming CUDA's reason.
/// </summary>
[Trait("Category", "Cuda")]
[Collection(Gpu.Collection)]
public sealed class CudaKernelTests(ITestOutputHelper output)
{
    const double EwAtol = 1e-6, EwRtol = 2e-5, RedAtol = 1e-5, RedRtol = 1e-4;

    public static TheoryData<string> UnaryOps() =>
    [
        "neg", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "gelu", "gelu_tanh", "abs", "square", "pow",
        "clamp", "log_sigmoid", "sin", "cos", "reciprocal", "silu", "softplus",
    ];

    static Tensor Unary(string op, Tensor x) => op switch
    {
        "neg" => x.Neg(),
        "exp" => x.Exp(),
        "log" => (x.Abs() + 0.1f).Log(),
        "sqrt" => (x.Abs() + 0.1f).Sqrt(),
        "rsqrt" => (x.Abs() + 0.1f).Rsqrt(),
        "tanh" => x.Tanh(),
        "sigmoid" => x.Sigmoid(),
        "relu" => x.Relu(),
        "gelu" => F.Gelu(x),
        "gelu_tanh" => F.Gelu(x, GeluApproximation.Tanh),
        "abs" => x.Abs(),
        "square" => x.Square(),
        "pow" => (x.Abs() + 0.1f).Pow(2.5f),
        "clamp" => x.Clamp(-0.5f, 0.7f),
        "log_sigmoid" => F.LogSigmoid(x),
        "sin" => x.Sin(),
        "cos" => x.Cos(),
        "reciprocal" => (x.Abs() + 0.5f).Reciprocal(),
        "silu" => F.Silu(x),
        "softplus" => F.Softplus(x),
        _ => throw new ArgumentException(op),
    };

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void UnaryOnATransposedViewMatchesTheCpu(string op)
    {
        Require();
        Twin(op, xs => Unary(op, xs[0].Transpose(0, 1)), EwAtol, EwRtol, output, inputs: Randn(1, 129, 37));
    }

    [Fact]
    public void UnaryOnAMillionElementsCoversTheGridStrideLoop()
    {
        Require();
        Twin("tanh 1000003", xs => xs[0].Tanh(), EwAtol, EwRtol, output, inputs: Randn(2, 1000003));
    }

    [Theory]
    [InlineData("add")]
    [InlineData("sub")]
    [InlineData("mul")]
    [InlineData("div")]
    [InlineData("pow")]
    [InlineData("maximum")]
    [InlineData("minimum")]
    public void BinaryWithBroadcastOperandsMatchesTheCpu(string op)
    {
        Require();
        Tensor Apply(Tensor a, Tensor b) => op switch
        {
            "add" => a + b,
            "sub" => a - b,
            "mul" => a * b,
            "div" => a / (b.Abs() + 0.5f),
            "pow" => (a.Abs() + 0.1f).Pow(b),
            "maximum" => Tensor.Maximum(a, b),
            _ => Tensor.Minimum(a, b),
        };
        // [5, 37, 129] with [37, 1] (stride 0 across the last dim) and a step-2 slice of [129 * 2]
        Twin(op + " broadcast column", xs => Apply(xs[0], xs[1]), EwAtol, EwRtol, output, inputs: [Randn(3, 5, 37, 129), Randn(4, 37, 1)]);
        Twin(op + " strided row", xs => Apply(xs[0], xs[1].Reshape(129, 2).Select(1, 0)), EwAtol, EwRtol, output,
            inputs: [Randn(5, 5, 37, 129), Randn(6, 258)]);
    }

    [Fact]
    public void ScalarOpsComparisonsAndWhereMatchTheCpu()
    {
        Require();
        Twin("scalar ops", xs => (xs[0] * 3f - 2f) / 7f + 1f, EwAtol, EwRtol, output, inputs: Randn(7, 37, 129));
        Twin("where(gt)", xs => Tensor.Where(xs[0].Gt(xs[1]), xs[0], xs[1]), 0, 0, output, inputs: [Randn(8, 37, 129), Randn(9, 129)]);
        foreach (var (name, compare) in new (string, Func<Tensor, Tensor, Tensor>)[]
                 { ("eq", (a, b) => a.Eq(b)), ("ne", (a, b) => a.Ne(b)), ("ge", (a, b) => a.Ge(b)), ("le", (a, b) => a.Le(b)), ("lt", (a, b) => a.Lt(b)) })
            Twin(name, xs => compare(xs[0].Clamp(-0.5f, 0.5f), xs[1].Clamp(-0.5f, 0.5f)), 0, 0, output, gradients: false,
                inputs: [Randn(10, 37, 129), Randn(11, 37, 1)]);
        Twin("masked fill", xs => xs[0].MaskedFill(xs[1].Gt(0f), -1e9f), 0, 0, output, inputs: [Randn(12, 37, 129), Randn(13, 129)]);
    }

    [Fact]
    public void DropoutDropsTheSameElementsAsTheCpu()
    {
        Require();
        // One seed drawn per call, then a hash of (seed, position) on both backends: the same elements dropped and the
        // same gradient, bit for bit, on a transposed view and across the grid-stride loop.
        Twin("dropout of a transposed view", xs => F.Dropout(xs[0].Transpose(0, 1), 0.3f, training: true, new Generator(21)), 0, 0,
            output, inputs: Randn(22, 129, 37));
        Twin("dropout 1000003", xs => F.Dropout(xs[0], 0.2f, training: true, new Generator(23)), 0, 0, output, inputs: Randn(24, 1000003));
    }

    [Fact]
    public void CopiesAndConversionsAreExact()
    {
        Require();
        var x = Randn(14, 37, 129) * 1000f;
        Twin("contiguous of a permuted view", xs => xs[0].Reshape(37, 3, 43).Permute(2, 0, 1).Contiguous(), 0, 0, output, inputs: x);
        Twin("to bf16 and back", xs => xs[0].To(DType.BFloat16).To(DType.Float32), 0, 0, output, gradients: false, inputs: x);
        Twin("to fp16 and back", xs => xs[0].To(DType.Float16).To(DType.Float32), 0, 0, output, gradients: false, inputs: x);
        Twin("to int32 and back", xs => xs[0].To(DType.Int32).To(DType.Float32), 0, 0, output, gradients: false, inputs: x);
        Twin("broadcast expand copy", xs => xs[0].Expand(5, 37, 129).Contiguous(), 0, 0, output, gradients: false, inputs: Randn(15, 37, 1));
        // Its gradient sums 645 values per element, in another order on the GPU: close, not bit for bit.
        Twin("broadcast expand copy (gradient)", xs => xs[0].Expand(5, 37, 129).Contiguous(), 1e-5, 0, output, inputs: Randn(15, 37, 1));
        Twin("cat", xs => Tensor.Cat([xs[0], xs[1].Transpose(0, 1)], 1), 0, 0, output, inputs: [Randn(16, 37, 5), Randn(17, 7, 37)]);
        var gpu = Tensor.Full([3, 5], 2.5f, Gpu.Device);
        Assert.Equal(Enumerable.Repeat(2.5f, 15), gpu.ToArray());
        var zeros = Tensor.Zeros([7], DType.BFloat16, Gpu.Device);
        Assert.Equal(new float[7], zeros.ToArray());
        Assert.Equal(-3, Tensor.FromArray([1, -3, 8], [3], Gpu.Device).ToInt32Array()[1]);
    }

    [Fact]
    public void ReductionsMatchTheCpu()
    {
        Require();
        var x = Randn(20, 7, 129, 37);
        Twin("sum all", xs => xs[0].Sum(), RedAtol, RedRtol, output, inputs: x);
        for (var dim = 0; dim < 3; dim++)
        {
            var d = dim;
            Twin($"sum dim {d}", xs => xs[0].Sum(d), RedAtol, RedRtol, output, inputs: x);
            Twin($"max dim {d}", xs => xs[0].Max(d).Values, 0, 0, output, inputs: x);
            Twin($"argmax dim {d}", xs => xs[0].ArgMax(d).To(DType.Float32), 0, 0, output, gradients: false, inputs: x);
            Twin($"min dim {d}", xs => xs[0].Min(d).Values, 0, 0, output, inputs: x);
            Twin($"cumsum dim {d}", xs => xs[0].CumSum(d), RedAtol, RedRtol, output, inputs: x);
        }
        Twin("mean, var", xs => xs[0].Var(1) + xs[0].Mean(), RedAtol, RedRtol, output, inputs: x);
        Twin("logsumexp", xs => xs[0].LogSumExp(-1), RedAtol, RedRtol, output, inputs: x);
        // A bias gradient's shape: a few long columns (the chunked two-pass sum).
        Twin("long column sum", xs => xs[0].Sum(0), RedAtol, RedRtol, output, inputs: Randn(21, 5003, 3));
        Twin("max all", xs => xs[0].Max(), 0, 0, output, inputs: x);
        // A few very long rows (whole-tensor sums): chunk sums on many blocks, then the chunks.
        Twin("sum of 3,000,017 values", xs => xs[0].Sum(), RedAtol, RedRtol, output, inputs: Randn(23, 3_000_017) + 0.5f);
        Twin("sum of 3 rows of 200,003", xs => xs[0].Sum(1), RedAtol, RedRtol, output, inputs: Randn(24, 3, 200_003) + 0.5f);
    }

    [Fact]
    public void TopKMatchesTheCpuExactly()
    {
        Require();
        var x = Randn(22, 7, 1000);
        foreach (var (k, largest) in new[] { (1, true), (5, true), (50, false), (300, true) })
        {
            var (vc, ic) = x.TopK(k, largest: largest);
            var (vg, ig) = x.To(Gpu.Device).TopK(k, largest: largest);
            Close($"top-{k} values", vc.ToArray(), vg.ToArray(), 0, 0, output);
            Assert.Equal(ic.ToInt32Array(), ig.ToInt32Array());
        }
    }

    [Fact]
    public void MatrixProductsMatchTheCpu()
    {
        Require();
        Twin("matmul 37x129 @ 129x65", xs => xs[0].MatMul(xs[1]), RedAtol, RedRtol, output, inputs: [Randn(30, 37, 129), Randn(31, 129, 65)]);
        Twin("matmul a^T @ b^T", xs => xs[0].T.MatMul(xs[1].T), RedAtol, RedRtol, output, inputs: [Randn(32, 129, 37), Randn(33, 65, 129)]);
        Twin("batched, shared right", xs => xs[0].MatMul(xs[1]), RedAtol, RedRtol, output, inputs: [Randn(34, 3, 5, 37, 16), Randn(35, 16, 23)]);
        Twin("batched both", xs => xs[0].MatMul(xs[1]), RedAtol, RedRtol, output, inputs: [Randn(36, 3, 17, 9), Randn(37, 3, 9, 11)]);
        Twin("batched, broadcast left", xs => xs[0].MatMul(xs[1]), RedAtol, RedRtol, output, inputs: [Randn(38, 17, 9), Randn(39, 4, 9, 11)]);
        Twin("matrix-vector", xs => xs[0].MatMul(xs[1]), RedAtol, RedRtol, output, inputs: [Randn(40, 37, 129), Randn(41, 129)]);
        Twin("linear with bias", xs => F.Linear(xs[0], xs[1], xs[2]), RedAtol, RedRtol, output,
            inputs: [Randn(42, 7, 13, 129), Randn(43, 65, 129), Randn(44, 65)]);
    }

    [Fact]
    public void Bf16AutocastProductsMatchTheCpusAutocast()
    {
        Require();
        // Same rounded operands on both; float32 sums in another order, then one bf16 rounding.
        Tensor Run(Tensor[] xs)
        {
            using var autocast = Autocast.BFloat16();
            return F.Linear(xs[0], xs[1], xs[2]).MatMul(xs[3]);
        }
        Twin("autocast linear + matmul", Run, 1e-3, 1e-2, output,
            inputs: [Randn(45, 7, 13, 129), Randn(46, 65, 129), Randn(47, 65), Randn(48, 65, 31)]);
        Tensor NoBias(Tensor[] xs)
        {
            using var autocast = Autocast.BFloat16();
            var y = F.Linear(xs[0], xs[1]);
            return y.Transpose(1, 2).MatMul(y);
        }
        Twin("autocast linear without bias + batched matmul", NoBias, 1e-3, 1e-2, output, inputs: [Randn(63, 3, 13, 129), Randn(64, 65, 129)]);
        // Without a bias the GPU's products store 16-bit values (cuBLAS rounds as it writes; no rounding pass):
        // the output and both gradients of a linear layer, and a batched product, are autocast's 16-bit values.
        foreach (var fp16 in new[] { false, true })
        {
            var format = fp16 ? DType.Float16 : DType.BFloat16;
            var input = Randn(60, 3, 13, 129).To(Gpu.Device).WithGrad();
            var w = Randn(61, 65, 129).To(Gpu.Device).WithGrad();
            var weights = Randn(62, 3, 13, 65).To(Gpu.Device);
            Tensor y, z;
            using (fp16 ? Autocast.Float16() : Autocast.BFloat16())
            {
                y = F.Linear(input, w);
                z = y.Transpose(1, 2).MatMul(y);   // [3, 65, 65], batched
            }
            (y * weights).Sum().Backward();
            AllRoundedTo(format, $"{format} linear output", y.ToArray());
            AllRoundedTo(format, $"{format} batched product", z.ToArray());
            AllRoundedTo(format, $"{format} linear input gradient", input.Grad!.ToArray());
            AllRoundedTo(format, $"{format} linear weight gradient", w.Grad!.ToArray());
        }
        var x = Randn(49, 1000);
        Close("autocast rounding", x.RoundedTo(DType.BFloat16).ToArray(), x.To(Gpu.Device).RoundedTo(DType.BFloat16).ToArray(), 0, 0, output);
        Close("fp16 rounding", x.RoundedTo(DType.Float16).ToArray(), x.To(Gpu.Device).RoundedTo(DType.Float16).ToArray(), 0, 0, output);
    }

    [Fact]
    public void AnAutocastProductsResultIsHeldIn16BitsReadAsItIsAndWidenedBeforeAnyWrite()
    {
        Require();
        // Under autocast a product's result keeps cuBLAS's bf16 block (2 bytes an element). GELU, its gradient, an add,
        // gradient accumulation and the next product read it as it is (the storage stays held); the values are the
        // CPU autocast's. A write into it, or a read from the host, widens the block to float32 first, in place.
        static Backends.Cuda.CudaStorage Held(Tensor t) => (Backends.Cuda.CudaStorage)t.Storage;
        var (x, w, w2) = (Randn(70, 37, 64), Randn(71, 96, 64), Randn(72, 48, 96));
        (Tensor H, Tensor Gelu, Tensor Sum, Tensor Next, Tensor GradX) Run(Device device)
        {
            var (xd, wd, w2d) = (x.To(device).Detach().WithGrad(), w.To(device).Detach().WithGrad(), w2.To(device));
            Tensor h, gelu, sum, next;
            using (Autocast.BFloat16())
            {
                h = F.Linear(xd, wd);                 // [37, 96], held in bf16 on the GPU
                gelu = h.Gelu();
                sum = h + gelu * 0.5f;
                next = F.Linear(h, w2d);              // h as the next product's operand, as it is
                _ = F.Dropout(h, 0.25f, training: true, new Generator(31));   // dropout reads it as it is too
            }
            if (device.Type == DeviceType.Cuda) Assert.Equal(DType.BFloat16, Held(h).HeldAs);   // nothing above widened it
            if (device.Type == DeviceType.Cuda) Assert.Equal(DType.BFloat16, Held(gelu).HeldAs);   // an activation of it is held too
            var targets = Tensor.FromArray(Enumerable.Range(0, 37).Select(i => i * 7 % 48).ToArray(), [37], device);
            // GELU's backward reads h, the two gradients of h accumulate, cross-entropy reads the held logits `next`
            // (a reduction would not: Sum reads float32, so it widens the block first, at no more cost than before).
            (sum.Sum() + F.CrossEntropy(next, targets)).Backward();
            if (device.Type == DeviceType.Cuda) Assert.Equal(DType.BFloat16, Held(h).HeldAs);
            if (device.Type == DeviceType.Cuda) Assert.Equal(DType.BFloat16, Held(next).HeldAs);
            return (h, gelu, sum, next, xd.Grad!);
        }
        var cpu = Run(Tensors.Device.Cpu);
        var gpu = Run(Gpu.Device);
        Close("held product (widened for the host)", cpu.H.ToArray(), gpu.H.ToArray(), 1e-3, 1e-2, output);
        Assert.Equal(DType.Float32, Held(gpu.H).HeldAs);   // ToArray widened the block
        AllRoundedTo(DType.BFloat16, "held product", gpu.H.ToArray());
        // The rest from the GPU's own h (its bf16 sums may differ from the CPU's by one ulp where a float32 sum in
        // another order lands on the other side of a rounding boundary). GELU under autocast: the float32 GELU rounded
        // to bf16 (one bf16 ulp, 2^-8, where the two GELUs straddle a rounding boundary); the add as a float32 kernel.
        var hCpu = Tensor.FromArray(gpu.H.ToArray(), gpu.H.Shape);
        Close("GELU of a held input, rounded", hCpu.Gelu().RoundedTo(DType.BFloat16).ToArray(), gpu.Gelu.ToArray(), 1e-6, 8e-3, output);
        AllRoundedTo(DType.BFloat16, "GELU of a held input", gpu.Gelu.ToArray());
        var geluGpu = Tensor.FromArray(gpu.Gelu.ToArray(), gpu.Gelu.Shape);
        Close("add of a held input", (hCpu + geluGpu * 0.5f).ToArray(), gpu.Sum.ToArray(), EwAtol, EwRtol, output);
        Close("product of a held operand", cpu.Next.ToArray(), gpu.Next.ToArray(), 1e-2, 2e-2, output);
        // GELU's gradient is rounded to bf16 on both (h's gradient is 16-bit), from float32 derivatives that differ by a few
        // float32 ulps: where they straddle a bf16 rounding boundary they differ by one bf16 ulp, which the products spread.
        var gradCpu = cpu.GradX.ToArray();
        Close("input gradient through GELU and the held product", gradCpu, gpu.GradX.ToArray(), 2e-2 * gradCpu.Max(Math.Abs), 2e-2, output);

        // Attention reads q, k, v from the projection's held block and stores its output and gradients held.
        var (xa, wa) = (Randn(73, 2, 40, 32), Randn(74, 96, 32) * 0.2f);   // scores of a few units: no one-hot softmax
        (Tensor Output, Tensor GradX) Attend(Device device, bool checkHeld)
        {
            var (xd, wd) = (xa.To(device).Detach().WithGrad(), wa.To(device));
            Tensor qkv, y;
            using (Autocast.BFloat16())
            {
                qkv = F.Linear(xd, wd);                                                          // [2, 40, 96]
                var heads = qkv.Split(32, dim: 2).Select(t => t.View(2, 40, 2, 16).Transpose(1, 2)).ToArray();
                y = F.ScaledDotProductAttention(heads[0], heads[1], heads[2], isCausal: true);   // [2, 2, 40, 16]
            }
            (y * y).Sum().Backward();
            if (checkHeld)
            {
                // The tensor-core kernels (compute capability 8.0 and up) read the block as it is, forward and backward,
                // and store their output held; an older GPU's float32 kernels store float32.
                var tensorCores = Tensors.Cuda.Describe(0).Major >= 8;
                if (tensorCores) Assert.Equal(DType.BFloat16, Held(qkv).HeldAs);
                Assert.Equal(tensorCores ? DType.BFloat16 : DType.Float32, Held(y).HeldAs);
            }
            return (y, xd.Grad!);
        }
        var attendCpu = Attend(Tensors.Device.Cpu, false);
        var attendGpu = Attend(Gpu.Device, true);
        // bf16 on both sides, rounded at different points (the GPU also rounds P and dS): a few bf16 ulps of the largest value.
        var (yCpu, gCpu) = (attendCpu.Output.ToArray(), attendCpu.GradX.ToArray());
        Close("attention of held q, k, v", yCpu, attendGpu.Output.ToArray(), 2e-2 * yCpu.Max(Math.Abs), 2e-2, output);
        Close("input gradient through held attention", gCpu, attendGpu.GradX.ToArray(), 2e-2 * gCpu.Max(Math.Abs), 2e-2, output);

        // A write in place into a held result widens it first: the op reads and writes float32.
        Tensor y;
        using (Autocast.BFloat16()) y = F.Linear(x.To(Gpu.Device), w.To(Gpu.Device));
        Assert.Equal(DType.BFloat16, Held(y).HeldAs);
        y.Backend.BinaryScalar(Backends.BinaryOp.Mul, y, 3f, false, y);
        Assert.Equal(DType.Float32, Held(y).HeldAs);
        Tensor reference;
        using (Autocast.BFloat16()) reference = F.Linear(x.To(Gpu.Device), w.To(Gpu.Device));
        Assert.Equal(reference.ToArray().Select(v => v * 3f), y.ToArray());
    }

    /// <summary>
    /// The GradScaler's unscale on the GPU: one scaling launch and one sum of squares over every gradient, read back once.
    /// The gradients are divided exactly as on the CPU, and a NaN or an infinity in any one of them is found.
    /// </summary>
    [Fact]
    public void GradScalerUnscaleFindsANonFiniteGradientWithOneReadBack()
    {
        Require();
        static Backends.Cuda.CudaDevice Dev() => Backends.Cuda.CudaBackend.For(0).Gpu;
        var sizes = new[] { 7, 1000, 33, 4097 };
        var parameters = sizes.Select((n, i) => Randn((ulong)(90 + i), n).To(Gpu.Device).WithGrad()).ToArray();
        var optimizer = new SGD(parameters, lr: 0.1f);
        var cpuGrads = sizes.Select((n, i) => Randn((ulong)(95 + i), n) * 512f).ToArray();
        // (value, parameter, element): none, then a NaN, +inf and -inf in different gradients.
        foreach (var (bad, at, element) in new[] { (0f, -1, 0), (float.NaN, 3, 4096), (float.PositiveInfinity, 1, 500), (float.NegativeInfinity, 0, 0) })
        {
            for (var i = 0; i < sizes.Length; i++)
            {
                var values = cpuGrads[i].ToArray();
                if (i == at) values[element] = bad;
                parameters[i].grad = Tensor.FromArray(values).To(Gpu.Device);
            }
            var scaler = new GradScaler(initialScale: 512f);
            var waits = Dev().HostWaits;
            scaler.Unscale(optimizer);
            Assert.Equal(waits + 1, Dev().HostWaits);
            Assert.Equal(at >= 0, scaler.FoundNonFinite);
            if (at < 0)
                for (var i = 0; i < sizes.Length; i++)
                    Assert.Equal((cpuGrads[i] * (1f / 512f)).ToArray(), parameters[i].grad!.ToArray());
        }
    }

    [Fact]
    public void TheGradientOfHeldLogitsIsStoredHeld()
    {
        Require();
        // Autocast's logits (an output layer's product, held in bf16) get a bf16 gradient, which cross-entropy's backward
        // stores held: half the bytes of the step's largest tensor, and the output layer's backward products read it as it
        // is. Its values are the CPU autocast's: the float32 gradient rounded (one bf16 ulp apart where the GPU's expf and
        // the CPU's exp land on either side of a rounding boundary). An ignored row's gradient is 0 on both.
        static Backends.Cuda.CudaStorage Held(Tensor t) => (Backends.Cuda.CudaStorage)t.Storage;
        var (x, w) = (Randn(80, 37, 64), Randn(81, 1000, 64) * 0.3f);
        var targets = Tensor.FromArray(Enumerable.Range(0, 37).Select(i => i % 9 == 4 ? -100 : i * 31 % 1000).ToArray(), [37]);
        Tensor Run(Device device, float smoothing)
        {
            Tensor logits, loss;
            using (Autocast.BFloat16())
            {
                logits = F.Linear(x.To(device), w.To(device)).Detach().WithGrad();   // the held result as a leaf, to read its gradient
                loss = F.CrossEntropy(logits, targets.To(device), labelSmoothing: smoothing);
            }
            loss.Backward();
            if (device.Type == DeviceType.Cuda)
            {
                Assert.Equal(DType.BFloat16, Held(logits).HeldAs);
                Assert.Equal(DType.BFloat16, Held(logits.Grad!).HeldAs);   // stored held, before anything reads it
            }
            return logits.Grad!;
        }
        foreach (var smoothing in new[] { 0f, 0.1f })
        {
            var cpu = Run(Tensors.Device.Cpu, smoothing).ToArray();
            var gpu = Run(Gpu.Device, smoothing).ToArray();
            AllRoundedTo(DType.BFloat16, "logits gradient", gpu);
            Close($"logits gradient, smoothing {smoothing}", cpu, gpu, 1e-6, 8e-3, output);
            for (var i = 0; i < 1000; i++) Assert.Equal(0f, gpu[4 * 1000 + i]);   // row 4 is ignored
        }
    }

    [Fact]
    public void RowKernelsMatchTheCpu()
    {
        Require();
        foreach (var n in new[] { 65, 1000, 50304 })
        {
            var x = Randn(50, 37, n) * 3f;
            Twin($"softmax n={n}", xs => xs[0].Softmax(-1), RedAtol, RedRtol, output, inputs: x);
            Twin($"log-softmax n={n}", xs => xs[0].LogSoftmax(-1), RedAtol, RedRtol, output, inputs: x);
        }
        var targets = Tensor.FromArray(Enumerable.Range(0, 37).Select(i => i % 7 == 3 ? -100 : i * 13 % 65).ToArray(), [37]);
        Twin("cross-entropy, ignore_index", xs => F.CrossEntropy(xs[0], xs[1]), RedAtol, RedRtol, output, inputs: [Randn(51, 37, 65) * 2f, targets]);
        Twin("cross-entropy, label smoothing 0.1", xs => F.CrossEntropy(xs[0], xs[1], labelSmoothing: 0.1f), RedAtol, RedRtol, output,
            inputs: [Randn(52, 37, 65) * 2f, targets]);
        Twin("layer norm", xs => F.LayerNorm(xs[0], [96], xs[1], xs[2]), RedAtol, RedRtol, output,
            inputs: [Randn(53, 7, 13, 96) * 2f + 1f, Randn(54, 96), Randn(55, 96)]);
        Twin("layer norm, no affine", xs => F.LayerNorm(xs[0], [777]), RedAtol, RedRtol, output, inputs: Randn(56, 5, 777));
        Twin("rms norm", xs => F.RmsNorm(xs[0], [96], xs[1]), RedAtol, RedRtol, output, inputs: [Randn(57, 7, 13, 96), Randn(58, 96)]);
        // The bad target is found by a kernel queued with the loss and thrown at the loss's read-back (deferred, like
        // PyTorch's device-side asserts: DeferredCheckTests), so the read-back is inside the Throws.
        var bad = Tensor.FromArray([0, 70, 1], [3], Gpu.Device);
        var e = Assert.Throws<TensorShapeException>(() => F.CrossEntropy(Randn(59, 3, 65).To(Gpu.Device), bad).Item());
        Assert.Contains("target 70 at row 1", e.Message);
    }

    [Theory]
    [InlineData(false, 77, 77, 32, 0f)]
    [InlineData(true, 77, 77, 32, 0f)]
    [InlineData(true, 130, 130, 64, 0f)]
    [InlineData(false, 9, 100, 128, 0f)]
    [InlineData(true, 45, 45, 16, 0.2f)]
    [InlineData(true, 33, 33, 160, 0f)]   // past the kernels' 128: the composite attention on both devices
    public void FusedAttentionMatchesTheCpu(bool causal, int t, int s, int d, float dropout)
    {
        Require();
        Twin($"attention causal={causal} T={t} S={s} D={d} dropout={dropout}",
            xs => F.ScaledDotProductAttention(xs[0], xs[1], xs[2], isCausal: causal, dropoutP: dropout, generator: new Generator(5)),
            RedAtol, RedRtol, output, inputs: [Randn(60, 2, 3, t, d), Randn(61, 2, 3, s, d), Randn(62, 2, 3, s, d)]);
    }

    /// <summary>
    /// Under autocast the GPU runs the tensor-core kernels (attention_mma.cu); the CPU computes the same
    /// attention of the rounded operands in float32. The GPU also rounds the probabilities (and dS) to
    /// 16 bits before they multiply v (and k, q), as FlashAttention does: about 2^-9 relative per term, so
    /// the results differ by far less than one bf16 ulp (2^-8) on average. Tolerances: every element within
    /// 2e-2 + 2e-2 |x| (gradients 10x, through Twin's convention), and the whole tensor within 1.5e-2 relative
    /// (|gpu - cpu| / |cpu|); a fragment in the wrong place errs by O(1). Head sizes 16 … 128 cover both
    /// kernel sizes (64 and 128, zero-padded), T not a multiple of the 64-row blocks or the tiles, T ≠ S.
    /// </summary>
    [Theory]
    [InlineData(false, 77, 77, 32, 0f, false)]
    [InlineData(true, 130, 130, 64, 0f, false)]
    [InlineData(true, 200, 200, 128, 0f, false)]
    [InlineData(false, 9, 100, 96, 0f, false)]
    [InlineData(true, 45, 45, 16, 0.2f, false)]
    [InlineData(true, 70, 70, 64, 0f, true)]
    public void TensorCoreAttentionUnderAutocastMatchesTheCpusAutocast(bool causal, int t, int s, int d, float dropout, bool fp16)
    {
        Require();
        var what = $"autocast {(fp16 ? "fp16" : "bf16")} attention causal={causal} T={t} S={s} D={d} dropout={dropout}";
        Tensor Run(Tensor[] xs)
        {
            using var scope = fp16 ? Autocast.Float16() : Autocast.BFloat16();
            return F.ScaledDotProductAttention(xs[0], xs[1], xs[2], isCausal: causal, dropoutP: dropout, generator: new Generator(5));
        }
        Tensor[] inputs = [Randn(64, 2, 3, t, d), Randn(65, 2, 3, s, d), Randn(66, 2, 3, s, d)];
        Twin(what, Run, 2e-2, 2e-2, output, inputs: inputs);
        // The same again, compared as whole tensors.
        var cpu = inputs.Select(x => x.Detach().Clone().WithGrad()).ToArray();
        var gpu = inputs.Select(x => x.Detach().To(Gpu.Device).WithGrad()).ToArray();
        var (yc, yg) = (Run(cpu), Run(gpu));
        var weights = Tensor.Randn(yc.Shape, new Generator(98));
        (yc * weights).Sum().Backward();
        (yg * weights.To(Gpu.Device)).Sum().Backward();
        RelativelyClose($"{what} output", yc.ToArray(), yg.ToArray(), 1.5e-2);
        for (var i = 0; i < 3; i++) RelativelyClose($"{what} gradient {"qkv"[i]}", cpu[i].Grad!.ToArray(), gpu[i].Grad!.ToArray(), 1.5e-2);
        // Autocast's results are 16-bit values, as on the CPU: the kernels round what they store (no rounding pass).
        var format = fp16 ? DType.Float16 : DType.BFloat16;
        AllRoundedTo(format, $"{what} output", yg.ToArray());
        for (var i = 0; i < 3; i++) AllRoundedTo(format, $"{what} gradient {"qkv"[i]}", gpu[i].Grad!.ToArray());
    }

    /// <summary>Every value is exactly representable in <paramref name="format"/> (bf16 or fp16).</summary>
    static void AllRoundedTo(DType format, string what, float[] values)
    {
        var rounded = Tensor.FromArray(values).To(format).To(DType.Float32).ToArray();
        for (var i = 0; i < values.Length; i++)
            if (BitConverter.SingleToInt32Bits(rounded[i]) != BitConverter.SingleToInt32Bits(values[i]))
                Assert.Fail($"{what}: element {i} is {values[i]:R}, not a {format} value (rounds to {rounded[i]:R})");
    }

    /// <summary>More than 65535 matrices (grid y's limit): both attention kernels put the rest on grid z.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [Trait(EmulatedGpu.Trait, "TooSlow")]   // 65,537 matrices: minutes on the emulated GPU
    public void FusedAttentionCoversMoreMatricesThanGridYHolds(bool autocast)
    {
        Require();
        Tensor Run(Tensor[] xs)
        {
            using var scope = autocast ? Autocast.BFloat16() : Autocast.Disabled();
            return F.ScaledDotProductAttention(xs[0], xs[1], xs[2], isCausal: true);
        }
        Twin($"attention over 65541 matrices, autocast={autocast}", Run, autocast ? 2e-2 : RedAtol, autocast ? 2e-2 : RedRtol, output,
            inputs: [Randn(67, 65541, 3, 16), Randn(68, 65541, 3, 16), Randn(69, 65541, 3, 16)]);
    }

    static void RelativelyClose(string what, float[] expected, float[] actual, double bound)
    {
        double diff = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            diff += Math.Pow(actual[i] - (double)expected[i], 2);
            norm += Math.Pow(expected[i], 2);
        }
        var relative = Math.Sqrt(diff / Math.Max(norm, 1e-30));
        Assert.True(relative <= bound, $"{what}: |gpu - cpu| / |cpu| = {relative:E2} > {bound:E1}");
    }

    [Fact]
    public void FusedAttentionOnTheModelsTimeMajorLayoutMatchesTheCpu()
    {
        Require();
        // q, k, v as a GPT makes them: one [B, T, 3C] projection split and viewed as [B, H, T, D].
        Twin("attention on qkv split views", xs =>
        {
            var parts = xs[0].Split(48, 2);
            Tensor Heads(Tensor p) => p.Reshape(3, 37, 4, 12).Transpose(1, 2);
            var y = F.ScaledDotProductAttention(Heads(parts[0]), Heads(parts[1]), Heads(parts[2]), isCausal: true);
            return y.Transpose(1, 2).Reshape(3, 37, 48);
        }, RedAtol, RedRtol, output, inputs: Randn(63, 3, 37, 144));
    }

    [Fact]
    public void IndexOpsMatchTheCpu()
    {
        Require();
        var ids = Tensor.FromArray(Enumerable.Range(0, 5 * 33).Select(i => i * 7 % 20).ToArray(), [5, 33]);   // duplicates
        Twin("embedding", xs => F.Embedding(xs[1], xs[0]), 0, 0, output, inputs: [Randn(70, 65, 48), ids]);
        Twin("index select dim 1", xs => xs[0].IndexSelect(1, xs[1]), 0, 0, output,
            inputs: [Randn(71, 3, 20, 7), Tensor.FromArray([4, 4, 0, 19, 7], [5])]);
        var index = Tensor.FromArray(Enumerable.Range(0, 7 * 5).Select(i => i * 3 % 20).ToArray(), [7, 5]);
        Twin("gather dim 1 of a transposed view", xs => xs[0].T.Gather(1, xs[1]), 0, 0, output, inputs: [Randn(72, 20, 7), index]);
        // A 0-d input: Max gathers through a 0-d index, and the gradient scatters back through it (rank 0 padded to [1]).
        Twin("max of a 0-d tensor", xs => xs[0].Max(0).Values * 3f, 0, 0, output, inputs: Randn(73));
    }

    [Fact]
    public void AdamWMatchesTheCpuBitForBit()
    {
        Require();
        var (pc, pg) = (Randn(80, 1003).WithGrad(), Randn(80, 1003).To(Gpu.Device).Detach().WithGrad());
        var oc = new AdamW([pc], lr: 1e-2f, weightDecay: 0.1f);
        var og = new AdamW([pg], lr: 1e-2f, weightDecay: 0.1f);
        for (var step = 0; step < 3; step++)
        {
            var g = Randn(81 + (ulong)step, 1003);
            pc.Grad = g;
            pg.Grad = g.To(Gpu.Device);
            oc.Step();
            og.Step();
        }
        Close("AdamW parameters after 3 steps", pc.ToArray(), pg.ToArray(), 0, 0, output);
        Assert.Equal(Gpu.Device, pg.Device);

        // Several parameters in one launch (adam_step_multi): two groups with their own rate and decay, a tensor longer
        // than its blocks cover (the grid-stride loop), one element, a transposed gradient, and one without a gradient;
        // AdamW's decoupled decay and Adam's L2. Bit for bit the CPU's, one tensor at a time.
        int[][] shapes = [[70_001], [1], [33, 31], [5]];
        foreach (var decoupled in new[] { true, false })
        {
            var cpu = shapes.Select((shape, i) => Randn(500 + (ulong)i, shape).WithGrad()).ToList();
            var gpu = cpu.Select(p => p.Detach().To(Gpu.Device).WithGrad()).ToList();
            Optimizer Make(List<Tensor> ps) => decoupled
                ? new AdamW([new ParamGroup(ps.Take(2), weightDecay: 0.1f, learningRate: 3e-2f), new ParamGroup(ps.Skip(2), weightDecay: 0f, learningRate: 1e-2f)])
                : new Adam([new ParamGroup(ps.Take(2), weightDecay: 0.05f, learningRate: 3e-2f), new ParamGroup(ps.Skip(2), weightDecay: 0f, learningRate: 1e-2f)]);
            var (optimizerCpu, optimizerGpu) = (Make(cpu), Make(gpu));
            for (var step = 0; step < 3; step++)
            {
                for (var i = 0; i < shapes.Length - 1; i++)   // the last parameter never gets a gradient
                {
                    var g = Randn(600 + (ulong)(10 * step + i), shapes[i]);
                    if (i == 2) g = g.Transpose(0, 1).Contiguous().Transpose(0, 1);
                    cpu[i].Grad = g;
                    gpu[i].Grad = g.To(Gpu.Device);
                    if (i == 2) gpu[i].Grad = gpu[i].Grad!.Transpose(0, 1).Contiguous().Transpose(0, 1);
                }
                optimizerCpu.Step();
                optimizerGpu.Step();
            }
            for (var i = 0; i < shapes.Length; i++)
                Close($"{(decoupled ? "AdamW" : "Adam")} parameter {i} of several after 3 steps", cpu[i].ToArray(), gpu[i].ToArray(), 0, 0, output);
        }
    }

    [Fact]
    public void GradientNormClippingAndNonFiniteChecksMatchTheCpu()
    {
        Require();
        var pc = Randn(90, 129, 37).WithGrad();
        var pg = pc.Detach().To(Gpu.Device).WithGrad();
        pc.Grad = Randn(91, 129, 37) * 3f;
        pg.Grad = pc.Grad!.To(Gpu.Device);
        var nc = GradClip.ClipGradNorm([pc], 1f);
        var ng = GradClip.ClipGradNorm([pg], 1f);
        Assert.InRange(Math.Abs(nc - ng) / nc, 0, 1e-6);
        Close("clipped gradient", pc.Grad!.ToArray(), pg.Grad!.ToArray(), 1e-7, 1e-6, output);
        // Several gradients (one transposed, one empty) summed in one pass on the GPU: the norm of all of them together.
        var shapes = new[] { new[] { 300, 200 }, new[] { 7 }, new[] { 0, 4 }, new[] { 1025 } };
        var cpuParams = shapes.Select((s, i) => Randn((ulong)(200 + i), s).WithGrad()).ToList();
        var gpuParams = cpuParams.Select(p => p.Detach().To(Gpu.Device).WithGrad()).ToList();
        for (var i = 0; i < shapes.Length; i++)
        {
            cpuParams[i].Grad = Randn((ulong)(300 + i), shapes[i]);
            gpuParams[i].Grad = cpuParams[i].Grad!.To(Gpu.Device);
        }
        cpuParams[0].Grad = cpuParams[0].Grad!.Transpose(0, 1).Contiguous().Transpose(0, 1);
        gpuParams[0].Grad = gpuParams[0].Grad!.Transpose(0, 1).Contiguous().Transpose(0, 1);
        double expected = 0;
        foreach (var p in cpuParams) foreach (var v in p.Grad!.ToArray()) expected += (double)v * v;
        var many = GradClip.GradNorm(gpuParams);
        Assert.InRange(Math.Abs(many - Math.Sqrt(expected)) / Math.Sqrt(expected), 0, 1e-6);
        Assert.InRange(Math.Abs(many - GradClip.GradNorm(cpuParams)) / many, 0, 1e-6);
        // Clipping them all: one launch for the contiguous ones on the GPU, the transposed one on its own; the CPU's values.
        var (clippedCpu, clippedGpu) = (GradClip.ClipGradNorm(cpuParams, 0.5f), GradClip.ClipGradNorm(gpuParams, 0.5f));
        Assert.InRange(Math.Abs(clippedCpu - clippedGpu) / clippedCpu, 0, 1e-6);
        for (var i = 0; i < shapes.Length; i++)
            Close($"clipped gradient {i} of several", cpuParams[i].Grad!.ToArray(), gpuParams[i].Grad!.ToArray(), 1e-7, 1e-6, output);

        var withNaN = Tensor.FromArray([1f, float.NaN, 3f], [3], Gpu.Device);
        Assert.Equal((true, false), withNaN.Backend.FindNonFinite(withNaN));
        var withInf = Tensor.FromArray([1f, float.NegativeInfinity], [2], Gpu.Device);
        Assert.Equal((false, true), withInf.Backend.FindNonFinite(withInf));
    }

    /// <summary>
    /// Clipping with the norm left on the GPU: the sums of squares, the coefficient and the rescale are queued with no
    /// host wait (PyTorch's clip_grad_norm_ does not wait either), and the one wait comes when the norm is read. The
    /// result is bit for bit the two-pass path's (the same sum-of-squares kernels read back, the coefficient on the
    /// host, then the rescale), clipping or not, and a NaN spreads to every gradient as it does there.
    /// </summary>
    [Fact]
    public void ClippingQueuesWithoutAWait_AndMatchesTheTwoPassPathBitForBit()
    {
        Require();
        static Backends.Cuda.CudaDevice Dev() => Backends.Cuda.CudaBackend.For(0).Gpu;
        var sizes = new[] { 7, 1000, 33, 300_001 };
        foreach (var (maxNorm, nan) in new[] { (0.5f, false), (1e6f, false), (1f, true) })
        {
            var grads = sizes.Select((n, i) => Randn((ulong)(400 + i), n) * 3f).ToArray();
            if (nan) grads[2] = Tensor.FromArray([.. grads[2].ToArray().Select((v, j) => j == 5 ? float.NaN : v)]);
            var twoPass = grads.Select(g => Tensor.Zeros(g.Shape.ToArray(), DType.Float32, Gpu.Device).WithGrad()).ToArray();
            var queued = grads.Select(g => Tensor.Zeros(g.Shape.ToArray(), DType.Float32, Gpu.Device).WithGrad()).ToArray();
            for (var i = 0; i < sizes.Length; i++) (twoPass[i].grad, queued[i].grad) = (grads[i].To(Gpu.Device), grads[i].To(Gpu.Device));

            var total = GradClip.GradNorm(twoPass);
            var coefficient = maxNorm / (total + 1e-6f);
            var clips = coefficient < 1f || float.IsNaN(coefficient);
            Assert.Equal(maxNorm < 1e6f, clips);   // the cases: clipping, not clipping, a NaN
            if (clips) twoPass[0].Backend.ScaleInPlace([.. twoPass.Select(p => p.grad!)], coefficient);

            var waits = Dev().HostWaits;
            var norm = GradClip.ClipGradNormAsTensor(queued, maxNorm);
            Assert.Equal(waits, Dev().HostWaits);
            Assert.Equal(Gpu.Device, norm.Device);
            Assert.Equal(BitConverter.SingleToInt32Bits(total), BitConverter.SingleToInt32Bits(norm.Item()));
            Assert.Equal(waits + 1, Dev().HostWaits);
            for (var i = 0; i < sizes.Length; i++) Assert.Equal(twoPass[i].grad!.ToArray(), queued[i].grad!.ToArray());
            Assert.Equal(nan, float.IsNaN(queued[3].grad!.ToArray()[0]));
            Assert.Equal(clips, !grads[1].ToArray().SequenceEqual(queued[1].grad!.ToArray()));   // changed exactly when it should
        }
    }

    [Fact]
    public void AnOpOnTwoDevicesNamesBoth()
    {
        Require();
        var e = Assert.Throws<TensorShapeException>(() => Randn(1, 3).MatMul(Randn(2, 3).To(Gpu.Device)));
        Assert.Contains("cpu", e.Message);
        Assert.Contains("cuda:0", e.Message);
    }
}
