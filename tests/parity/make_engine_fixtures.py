#!/usr/bin/env python3
"""PyTorch reference fixtures for the tensor engine (LlmCourse.Tensors).

Run: /usr/bin/python3 tests/parity/make_engine_fixtures.py   (PyTorch 1.13, a few seconds)
Writes tests/parity/fixtures/engine_*.safetensors; the C# tests under
tests/LlmCourse.Tensors.Tests/{Parity,Gradcheck,Regression} read them with the engine's Safetensors.Load.

How a reference is made: every input is drawn in float32 from a generator seeded by the case's name
(so adding a case changes no other). PyTorch then evaluates the op in float64 on exactly those float32
values, and the result is rounded once to float32. The reference is therefore the float32 nearest to
the true answer, and a test's difference measures the engine's own error only. The gradients are those
of the loss sum_k <out_k, proj_k> with a random projection proj_k per output, so every output element
matters and is weighted differently (a test that only summed outputs would miss permuted gradients).
As a yardstick, the same case is also run in float32 PyTorch, and its largest difference from the
float64 reference is stored in the file's metadata ("yardstick/<case>"): what float32 PyTorch itself
gets wrong on that case.

Layout of engine_ops.safetensors, for a case NAME: NAME/in/i (inputs, F32 or I32), NAME/out/k
(outputs), NAME/proj/k (projection of each differentiable output), NAME/grad/i (gradient of each
input that requires grad). The metadata "cases" lists the case names in order.
"""
import json
import math
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ beside the committed fixtures
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

torch.set_num_threads(1)  # reductions then add in one fixed order: the same bytes every run
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def seeded(name):
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


# ---------------------------------------------------------------------------------------------
# Input makers: float32 (or int32) tensors drawn from the case's generator.
class Inputs:
    def __init__(self, name):
        self.g = seeded(name)

    def randn(self, *shape, scale=1.0, shift=0.0):
        return torch.randn(*shape, generator=self.g) * scale + shift

    def uniform(self, low, high, *shape):
        return torch.rand(*shape, generator=self.g) * (high - low) + low

    def positive(self, *shape):
        return self.uniform(0.5, 2.0, *shape)

    def away(self, *shape, points=(0.0,), margin=0.1, scale=1.0):
        """Normal values at least `margin` from each of `points` (kinks of relu, abs, clamp...), so a
        finite-difference step of 1e-2 never crosses one."""
        x = self.randn(*shape, scale=scale)
        for p in points:
            close = (x - p).abs() < margin
            x = torch.where(close, p + torch.sign(x - p + 1e-30) * (margin + (x - p).abs()), x)
        return x

    def nonzero(self, *shape):
        return torch.sign(self.randn(*shape) + 1e-30) * self.uniform(0.5, 1.5, *shape)

    def distinct(self, *shape, gap=0.05):
        """A random permutation of evenly spaced values: no ties, so max/topk/sort are well defined
        and differentiable, with a gap larger than a finite-difference step."""
        n = math.prod(shape)
        return (torch.randperm(n, generator=self.g).float() * gap - n * gap / 2).reshape(shape)

    def ints(self, low, high, *shape):
        return torch.randint(low, high, shape, generator=self.g, dtype=torch.int32)

    def mask(self, *shape, p=0.5):
        return (torch.rand(*shape, generator=self.g) < p).float()


def max_abs_diff(a, b):
    a, b = a.double(), b.double()
    both_nan = torch.isnan(a) & torch.isnan(b)
    same_inf = torch.isinf(a) & (a == b)
    d = (a - b).abs().masked_fill(both_nan | same_inf, 0)
    return float(d.max()) if d.numel() else 0.0


# ---------------------------------------------------------------------------------------------
# The op cases.
class OpFixture:
    def __init__(self):
        self.tensors, self.yardstick, self.names = {}, {}, []

    def case(self, name, fn, inputs, no_grad=()):
        """fn maps torch tensors (float64 or int64) to a tensor or a tuple of tensors. Every float
        input requires grad unless its index is in no_grad (masks, conditions)."""
        assert name not in self.names, name
        self.names.append(name)
        g = seeded(name + "/proj")
        grad_idx = [i for i, t in enumerate(inputs) if t.is_floating_point() and i not in no_grad]

        def run(dtype):
            xs = [t.detach().clone().to(dtype) if t.is_floating_point() else t.long() for t in inputs]
            for i in grad_idx:
                xs[i].requires_grad_(True)
            outs = fn(*xs)
            outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
            projs = []
            for o in outs:
                if o.requires_grad:
                    p = torch.randn(o.shape, generator=g).to(dtype) if dtype == torch.float64 else None
                    projs.append(p)
                else:
                    projs.append(None)
            return xs, outs, projs

        xs, outs, projs = run(torch.float64)
        terms = [(o * p).sum() for o, p in zip(outs, projs) if p is not None]
        if terms:
            torch.autograd.backward(terms)
        for i, t in enumerate(inputs):
            self.tensors[f"{name}/in/{i}"] = t
        for k, (o, p) in enumerate(zip(outs, projs)):
            o = o.detach()
            self.tensors[f"{name}/out/{k}"] = o.float() if o.is_floating_point() else o.int()
            if o.dtype == torch.bool:
                self.tensors[f"{name}/out/{k}"] = o.float()
            if p is not None:
                self.tensors[f"{name}/proj/{k}"] = p.float()
        for i in grad_idx:
            grad = xs[i].grad if xs[i].grad is not None else torch.zeros_like(xs[i])
            self.tensors[f"{name}/grad/{i}"] = grad.float()

        # The yardstick: float32 PyTorch on the same inputs and projections.
        xs32, outs32, _ = run(torch.float32)
        terms32 = [(o * projs[k].float()).sum() for k, o in enumerate(outs32) if projs[k] is not None]
        if terms32:
            torch.autograd.backward(terms32)
        yard = {"out": max(max_abs_diff(o32.detach(), o.detach()) if o.is_floating_point() else 0.0
                           for o32, o in zip(outs32, outs))}
        if grad_idx:
            yard["grad"] = max(max_abs_diff(xs32[i].grad if xs32[i].grad is not None else
                                            torch.zeros_like(xs32[i]), xs[i].grad if xs[i].grad is not None
                                            else torch.zeros_like(xs[i])) for i in grad_idx)
        self.yardstick[name] = yard

    def write(self, path):
        metadata = {"cases": json.dumps(self.names), "torch": torch.__version__.split("+")[0]}
        for name, yard in self.yardstick.items():
            metadata[f"yardstick/{name}"] = json.dumps({k: float(f"{v:.3g}") for k, v in yard.items()})
        safetensors_io.write(path, self.tensors, metadata)


def causal_mask(t):
    """1 above the diagonal: the future positions a query may not see."""
    return torch.triu(torch.ones(t, t), diagonal=1)


def attention(q, k, v, causal, allowed=None):
    """softmax(q kᵀ/√d) v. causal: key j hidden from query i when j > i (top-left aligned, as PyTorch 2's
    scaled_dot_product_attention, which 1.13 lacks). allowed: PyTorch's boolean attn_mask, nonzero = may attend."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        t, s = q.shape[-2], k.shape[-2]
        scores = scores.masked_fill(torch.ones(t, s).triu(1).bool(), float("-inf"))
    if allowed is not None:
        scores = scores.masked_fill(allowed == 0, float("-inf"))
    return scores.softmax(-1) @ v


def rms_norm(x, dims, weight, eps):
    """RMSNorm as in LLaMA (torch 1.13 has no F.rms_norm): x / sqrt(mean(x^2) + eps) * weight."""
    axes = tuple(range(-len(dims), 0))
    y = x * torch.rsqrt(x.pow(2).mean(axes, keepdim=True) + eps)
    return y * weight if weight is not None else y


def op_cases():
    fx = OpFixture()

    def case(name, fn, make, no_grad=()):
        fx.case(name, fn, make(Inputs(name)), no_grad)

    # --- element-wise, with broadcasting both ways (gradients reduced over broadcast dims)
    case("add", lambda a, b: a + b, lambda r: [r.randn(3, 4), r.randn(3, 4)])
    case("add_bcast_rhs", lambda a, b: a + b, lambda r: [r.randn(2, 3, 4), r.randn(3, 1)])
    case("add_bcast_lhs", lambda a, b: a + b, lambda r: [r.randn(4), r.randn(2, 3, 4)])
    case("add_bcast_both", lambda a, b: a + b, lambda r: [r.randn(3, 1), r.randn(1, 4)])
    case("add_scalar", lambda a: a + 2.5, lambda r: [r.randn(3, 4)])
    case("sub", lambda a, b: a - b, lambda r: [r.randn(3, 4), r.randn(3, 4)])
    case("sub_bcast", lambda a, b: a - b, lambda r: [r.randn(4, 1, 3), r.randn(2, 3)])
    case("rsub_scalar", lambda a: 1.5 - a, lambda r: [r.randn(3, 4)])
    case("mul", lambda a, b: a * b, lambda r: [r.randn(3, 4), r.randn(3, 4)])
    case("mul_bcast", lambda a, b: a * b, lambda r: [r.randn(2, 3, 4), r.randn(4)])
    case("mul_scalar", lambda a: a * -3.0, lambda r: [r.randn(3, 4)])
    case("div", lambda a, b: a / b, lambda r: [r.randn(3, 4), r.nonzero(3, 4)])
    case("div_bcast", lambda a, b: a / b, lambda r: [r.randn(2, 3, 4), r.nonzero(3, 1)])
    case("div_scalar", lambda a: a / 4.0, lambda r: [r.randn(3, 4)])
    case("rdiv_scalar", lambda a: 2.0 / a, lambda r: [r.nonzero(3, 4)])
    case("neg", lambda a: -a, lambda r: [r.randn(3, 4)])
    case("pow_2", lambda a: a.pow(2.0), lambda r: [r.randn(3, 4)])
    case("pow_3", lambda a: a.pow(3.0), lambda r: [r.randn(3, 4)])
    case("pow_half", lambda a: a.pow(0.5), lambda r: [r.positive(3, 4)])
    case("pow_neg", lambda a: a.pow(-1.5), lambda r: [r.positive(3, 4)])
    case("pow_tensor", lambda a, b: a.pow(b), lambda r: [r.positive(3, 4), r.randn(3, 4)])
    case("pow_tensor_bcast", lambda a, b: a.pow(b), lambda r: [r.positive(3, 4), r.randn(4)])
    case("exp", torch.exp, lambda r: [r.randn(3, 4, scale=2)])
    case("log", torch.log, lambda r: [r.uniform(0.05, 5, 3, 4)])
    case("sqrt", torch.sqrt, lambda r: [r.uniform(0.05, 5, 3, 4)])
    case("rsqrt", torch.rsqrt, lambda r: [r.uniform(0.05, 5, 3, 4)])
    case("tanh", torch.tanh, lambda r: [r.randn(3, 4, scale=2)])
    case("sigmoid", torch.sigmoid, lambda r: [r.randn(3, 4, scale=4)])
    case("relu", torch.relu, lambda r: [r.away(3, 4)])
    case("relu_at_zero", torch.relu, lambda r: [r.away(3, 4) * r.mask(3, 4)])  # exact zeros: grad 0
    case("gelu", F.gelu, lambda r: [r.randn(4, 5, scale=2)])
    case("gelu_tanh", lambda a: F.gelu(a, approximate="tanh"), lambda r: [r.randn(4, 5, scale=2)])
    case("abs", torch.abs, lambda r: [r.away(3, 4)])
    case("square", torch.square, lambda r: [r.randn(3, 4)])
    case("clamp", lambda a: a.clamp(-0.5, 0.5), lambda r: [r.away(4, 5, points=(-0.5, 0.5))])
    case("clamp_min", lambda a: a.clamp(min=-0.3), lambda r: [r.away(4, 5, points=(-0.3,))])
    case("clamp_max", lambda a: a.clamp(max=0.2), lambda r: [r.away(4, 5, points=(0.2,))])
    # PyTorch lets the gradient through at the bounds themselves (min <= x <= max).
    case("clamp_at_bounds", lambda a: a.clamp(-0.5, 0.5),
         lambda r: [torch.tensor([[-0.5, 0.5, -1.0, 1.0], [0.0, -0.5, 0.5, 0.25]])])
    case("masked_fill", lambda a, m: a.masked_fill(m.bool(), -2.0),
         lambda r: [r.randn(3, 4), r.mask(3, 4)], no_grad=(1,))
    case("masked_fill_bcast", lambda a, m: a.masked_fill(m.bool(), 7.0),
         lambda r: [r.randn(3, 4), r.mask(1, 4)], no_grad=(1,))
    case("where", lambda c, a, b: torch.where(c.bool(), a, b),
         lambda r: [r.mask(3, 4), r.randn(3, 4), r.randn(3, 4)], no_grad=(0,))
    case("where_bcast", lambda c, a, b: torch.where(c.bool(), a, b),
         lambda r: [r.mask(3, 1), r.randn(3, 4), r.randn(4)], no_grad=(0,))
    case("maximum", torch.maximum, lambda r: [r.distinct(3, 4), r.distinct(3, 4) + 0.025])
    case("minimum", torch.minimum, lambda r: [r.distinct(3, 4), r.distinct(3, 4) + 0.025])
    case("maximum_bcast", torch.maximum, lambda r: [r.distinct(3, 4), r.distinct(4) + 0.025])
    # Ties: PyTorch gives each side half the gradient.
    case("maximum_ties", torch.maximum,
         lambda r: [torch.tensor([1.0, 2.0, -1.0, 0.5]), torch.tensor([1.0, 3.0, -1.0, 0.0])])
    case("minimum_ties", torch.minimum,
         lambda r: [torch.tensor([1.0, 2.0, -1.0, 0.5]), torch.tensor([1.0, 3.0, -1.0, 0.0])])
    case("silu", F.silu, lambda r: [r.randn(3, 4, scale=3)])
    case("softplus", F.softplus, lambda r: [r.randn(3, 4, scale=3)])
    case("softplus_large", F.softplus,  # log(1 + exp(x)) overflows float32 past 88 if done naively
         lambda r: [torch.tensor([-200.0, -90.0, -40.0, -20.0, 20.0, 40.0, 90.0, 200.0])])
    case("log_sigmoid", F.logsigmoid, lambda r: [r.randn(3, 4, scale=3)])
    case("log_sigmoid_large", F.logsigmoid,  # exp(-x) overflows float32 past 88 if done naively
         lambda r: [torch.tensor([-200.0, -90.0, -40.0, -20.0, 20.0, 40.0, 90.0, 200.0])])
    case("gt", lambda a, b: (a > b).float(), lambda r: [r.distinct(3, 4), r.distinct(3, 4) + 0.025],
         no_grad=(0, 1))
    case("le_scalar", lambda a: (a <= 0.1).float(), lambda r: [r.distinct(3, 4)], no_grad=(0,))
    case("eq", lambda a, b: (a == b).float(),
         lambda r: [torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([1.0, 0.0, 3.0, 5.0])], no_grad=(0, 1))

    # --- reductions
    case("sum_all", lambda a: a.sum(), lambda r: [r.randn(3, 4, 5)])
    case("sum_dim", lambda a: a.sum(1), lambda r: [r.randn(3, 4, 5)])
    case("sum_dim_keep", lambda a: a.sum(-1, keepdim=True), lambda r: [r.randn(3, 4, 5)])
    case("sum_dims", lambda a: a.sum((0, 2)), lambda r: [r.randn(3, 4, 5)])
    case("sum_dims_keep", lambda a: a.sum((0, 2), keepdim=True), lambda r: [r.randn(3, 4, 5)])
    case("mean_all", lambda a: a.mean(), lambda r: [r.randn(3, 4, 5)])
    case("mean_dim", lambda a: a.mean(0), lambda r: [r.randn(3, 4, 5)])
    case("mean_dim_keep", lambda a: a.mean(1, keepdim=True), lambda r: [r.randn(3, 4, 5)])
    case("mean_dims", lambda a: a.mean((1, 2)), lambda r: [r.randn(3, 4, 5)])
    case("max_all", lambda a: a.max(), lambda r: [r.distinct(3, 4, 5)])
    # Ties in a full reduction: PyTorch spreads the gradient evenly over the tied maxima.
    case("max_all_ties", lambda a: a.max(), lambda r: [torch.tensor([[1.0, 3.0, 2.0], [3.0, 0.0, 3.0]])])
    case("max_dim", lambda a: a.max(1), lambda r: [r.distinct(3, 4, 5)])
    case("max_dim_keep", lambda a: a.max(-1, keepdim=True), lambda r: [r.distinct(3, 4, 5)])
    case("min_dim", lambda a: a.min(0), lambda r: [r.distinct(3, 4, 5)])
    case("var_dim", lambda a: a.var(1), lambda r: [r.randn(3, 6, 4)])
    case("var_dim_keep_c0", lambda a: a.var(-1, unbiased=False, keepdim=True), lambda r: [r.randn(3, 6, 4)])
    case("std_dim", lambda a: a.std(1), lambda r: [r.randn(3, 6, 4)])
    case("argmax", lambda a: a.argmax(1), lambda r: [r.distinct(3, 4, 5)], no_grad=(0,))
    case("argmax_keep", lambda a: a.argmax(-1, keepdim=True), lambda r: [r.distinct(3, 4, 5)], no_grad=(0,))
    case("topk", lambda a: a.topk(3, -1), lambda r: [r.distinct(3, 7)])
    case("topk_smallest", lambda a: a.topk(2, -1, largest=False), lambda r: [r.distinct(3, 7)])
    case("topk_dim0", lambda a: a.topk(2, 0), lambda r: [r.distinct(5, 3)])
    case("cumsum", lambda a: a.cumsum(1), lambda r: [r.randn(3, 6)])
    case("cumsum_dim0", lambda a: a.cumsum(0), lambda r: [r.randn(4, 3, 2)])
    case("logsumexp", lambda a: a.logsumexp(1), lambda r: [r.randn(3, 5, scale=2)])
    case("logsumexp_large_keep", lambda a: a.logsumexp(-1, keepdim=True),  # exp overflows float32 here
         lambda r: [r.randn(3, 5, scale=3, shift=100.0)])
    case("norm", lambda a: a.norm(), lambda r: [r.randn(3, 4)])

    # --- matrix products
    case("matmul_2d", torch.matmul, lambda r: [r.randn(5, 7), r.randn(7, 3)])
    case("matmul_ta", lambda a, b: a.T @ b, lambda r: [r.randn(7, 5), r.randn(7, 3)])
    case("matmul_tb", lambda a, b: a @ b.T, lambda r: [r.randn(5, 7), r.randn(3, 7)])
    case("matmul_tab", lambda a, b: a.T @ b.T, lambda r: [r.randn(7, 5), r.randn(3, 7)])
    case("matmul_vec_mat", torch.matmul, lambda r: [r.randn(7), r.randn(7, 3)])
    case("matmul_mat_vec", torch.matmul, lambda r: [r.randn(5, 7), r.randn(7)])
    case("matmul_dot", torch.matmul, lambda r: [r.randn(7), r.randn(7)])
    case("matmul_batched", torch.matmul, lambda r: [r.randn(2, 3, 4, 5), r.randn(2, 3, 5, 6)])
    case("matmul_bcast_batch", torch.matmul, lambda r: [r.randn(2, 1, 4, 5), r.randn(3, 5, 6)])
    case("matmul_2d_batched", torch.matmul, lambda r: [r.randn(4, 5), r.randn(2, 5, 6)])
    case("matmul_batched_tb", lambda a, b: a @ b.transpose(-2, -1), lambda r: [r.randn(2, 4, 5), r.randn(2, 6, 5)])
    case("matmul_noncontig", lambda a, b: a[:, ::2] @ b, lambda r: [r.randn(6, 10), r.randn(5, 4)])
    # Large enough for the packed GEMM's blocks and their remainders (k > 256, m and n not multiples of 8).
    case("matmul_large", torch.matmul, lambda r: [r.randn(33, 257), r.randn(257, 65)])
    case("linear", F.linear, lambda r: [r.randn(2, 3, 5), r.randn(4, 5), r.randn(4)])
    case("linear_nobias", F.linear, lambda r: [r.randn(6, 5), r.randn(4, 5)])

    # --- softmax family and losses
    case("softmax", lambda a: a.softmax(-1), lambda r: [r.randn(3, 5, scale=2)])
    case("softmax_dim0", lambda a: a.softmax(0), lambda r: [r.randn(4, 3, 2, scale=2)])
    case("softmax_large", lambda a: a.softmax(-1), lambda r: [r.randn(3, 5, scale=30, shift=50)])
    case("log_softmax", lambda a: a.log_softmax(-1), lambda r: [r.randn(3, 5, scale=2)])
    case("log_softmax_dim1", lambda a: a.log_softmax(1), lambda r: [r.randn(2, 3, 4, scale=2)])
    case("log_softmax_large", lambda a: a.log_softmax(-1), lambda r: [r.randn(3, 5, scale=30, shift=-50)])
    case("masked_softmax", lambda a, m: a.masked_fill(m.bool(), float("-inf")).softmax(-1),
         lambda r: [r.randn(4, 4), causal_mask(4)], no_grad=(1,))

    def targets_with_ignored(r, n, c, ignored=(2,), ignore_index=-100):
        t = r.ints(0, c, n)
        for i in ignored:
            t[i] = ignore_index
        return t

    case("cross_entropy", lambda x, t: F.cross_entropy(x, t),
         lambda r: [r.randn(6, 5, scale=2), targets_with_ignored(r, 6, 5)])
    case("cross_entropy_3d", lambda x, t: F.cross_entropy(x.reshape(-1, x.shape[-1]), t.reshape(-1)),
         lambda r: [r.randn(2, 3, 5, scale=2), r.ints(0, 5, 2, 3)])
    case("cross_entropy_sum", lambda x, t: F.cross_entropy(x, t, reduction="sum"),
         lambda r: [r.randn(6, 5, scale=2), targets_with_ignored(r, 6, 5)])
    case("cross_entropy_none", lambda x, t: F.cross_entropy(x, t, reduction="none"),
         lambda r: [r.randn(6, 5, scale=2), targets_with_ignored(r, 6, 5)])
    case("cross_entropy_smoothing", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
         lambda r: [r.randn(6, 5, scale=2), targets_with_ignored(r, 6, 5)])
    # Every target ignored: the mean is 0/0 = NaN in PyTorch, while the gradient is all zeros.
    case("cross_entropy_all_ignored", lambda x, t: F.cross_entropy(x, t),
         lambda r: [r.randn(3, 5), torch.full((3,), -100, dtype=torch.int32)])
    case("cross_entropy_all_ignored_sum", lambda x, t: F.cross_entropy(x, t, reduction="sum"),
         lambda r: [r.randn(3, 5), torch.full((3,), -100, dtype=torch.int32)])
    case("cross_entropy_ignore_index", lambda x, t: F.cross_entropy(x, t, ignore_index=2),
         lambda r: [r.randn(6, 5, scale=2), torch.tensor([0, 2, 4, 2, 1, 3], dtype=torch.int32)])
    case("cross_entropy_large", lambda x, t: F.cross_entropy(x, t),
         lambda r: [r.randn(4, 7, scale=60), r.ints(0, 7, 4)])
    case("nll_loss", lambda x, t: F.nll_loss(x, t),
         lambda r: [r.randn(6, 5), targets_with_ignored(r, 6, 5)])
    case("mse_loss", F.mse_loss, lambda r: [r.randn(3, 4), r.randn(3, 4)])

    # --- normalisation, embedding, indexing
    case("layer_norm", lambda x, w, b: F.layer_norm(x, [8], w, b),
         lambda r: [r.randn(2, 3, 8, scale=2, shift=0.5), r.randn(8, scale=0.3, shift=1), r.randn(8, scale=0.3)])
    case("layer_norm_noaffine", lambda x: F.layer_norm(x, [8]), lambda r: [r.randn(2, 3, 8)])
    case("layer_norm_2d_shape", lambda x, w, b: F.layer_norm(x, [3, 4], w, b),
         lambda r: [r.randn(2, 3, 4), r.randn(3, 4, scale=0.3, shift=1), r.randn(3, 4, scale=0.3)])
    # Mean 100, spread 0.1: E[x^2] - E[x]^2 in float32 loses every digit here; x - mean does not.
    case("layer_norm_offset", lambda x: F.layer_norm(x, [16]), lambda r: [r.randn(3, 16, scale=0.1, shift=100)])
    case("rms_norm", lambda x, w: rms_norm(x, [8], w, 1e-6),
         lambda r: [r.randn(2, 3, 8), r.randn(8, scale=0.3, shift=1)])
    case("rms_norm_noweight", lambda x: rms_norm(x, [8], None, 1e-6), lambda r: [r.randn(4, 8)])
    case("embedding", lambda i, w: F.embedding(i, w),
         lambda r: [torch.tensor([[1, 3, 1, 0, 9], [3, 3, 7, 1, 2], [0, 9, 9, 9, 4]], dtype=torch.int32),
                    r.randn(10, 4)])
    case("one_hot", lambda i: F.one_hot(i, 6), lambda r: [torch.tensor([0, 5, 2, 2, 3], dtype=torch.int32)])
    case("index_select", lambda x, i: x.index_select(0, i),
         lambda r: [r.randn(5, 3), torch.tensor([4, 0, 4, 2], dtype=torch.int32)])
    case("gather", lambda x, i: x.gather(1, i),
         lambda r: [r.randn(3, 4), torch.tensor([[0, 3], [1, 1], [3, 2]], dtype=torch.int32)])

    # --- views: gradients flow back through them to the right elements
    case("reshape", lambda a: a.reshape(4, -1), lambda r: [r.randn(2, 3, 4)])
    case("reshape_noncontig", lambda a: a.T.reshape(12), lambda r: [r.randn(3, 4)])
    case("view", lambda a: a.view(3, 4), lambda r: [r.randn(2, 6)])
    case("transpose", lambda a: a.transpose(0, 2), lambda r: [r.randn(2, 3, 4)])
    case("transpose_exp", lambda a: a.transpose(1, 2).exp(), lambda r: [r.randn(2, 3, 4)])
    case("permute", lambda a: a.permute(2, 0, 1), lambda r: [r.randn(2, 3, 4)])
    case("t", lambda a: a.T, lambda r: [r.randn(3, 5)])
    case("slice_step", lambda a: a[:, 1:8:3], lambda r: [r.randn(4, 9)])
    case("slice_negative", lambda a: a[-4:-1], lambda r: [r.randn(6, 3)])
    case("narrow", lambda a: a.narrow(1, 2, 3), lambda r: [r.randn(3, 6)])
    case("select", lambda a: a.select(1, 2), lambda r: [r.randn(3, 4, 5)])
    case("select_negative", lambda a: a.select(0, -1), lambda r: [r.randn(3, 4)])
    case("squeeze_unsqueeze", lambda a: a.squeeze(1).unsqueeze(0), lambda r: [r.randn(3, 1, 4)])
    case("squeeze_all", lambda a: a.squeeze(), lambda r: [r.randn(1, 3, 1)])
    case("expand", lambda a: a.expand(2, 3, 4), lambda r: [r.randn(3, 1)])
    case("flatten", lambda a: a.flatten(1), lambda r: [r.randn(2, 3, 4)])
    case("contiguous", lambda a: a.T.contiguous(), lambda r: [r.randn(3, 4)])
    case("cat_dim0", lambda a, b, c: torch.cat([a, b, c], 0), lambda r: [r.randn(2, 3), r.randn(1, 3), r.randn(3, 3)])
    case("cat_dim1", lambda a, b: torch.cat([a, b], 1), lambda r: [r.randn(2, 1), r.randn(2, 4)])
    case("cat_negative_dim", lambda a, b: torch.cat([a, b], -1), lambda r: [r.randn(2, 3, 2), r.randn(2, 3, 3)])
    case("stack", lambda a, b, c: torch.stack([a, b, c], 1), lambda r: [r.randn(2, 3), r.randn(2, 3), r.randn(2, 3)])
    case("split", lambda a: a.split(3, 0), lambda r: [r.randn(7, 3)])
    case("chunk", lambda a: a.chunk(3, 1), lambda r: [r.randn(2, 6)])
    case("views_chain", lambda a: (a.T[1:5].reshape(2, 2, 4) * 2).permute(2, 0, 1), lambda r: [r.randn(4, 6)])

    # --- attention
    case("attention_causal", lambda q, k, v: attention(q, k, v, True),
         lambda r: [r.randn(2, 2, 5, 4), r.randn(2, 2, 5, 4), r.randn(2, 2, 5, 4)])
    case("attention", lambda q, k, v: attention(q, k, v, False),
         lambda r: [r.randn(2, 2, 3, 4), r.randn(2, 2, 5, 4), r.randn(2, 2, 5, 4)])  # 3 queries, 5 keys

    # --- more ops the engine offers (beyond ENGINE_API.md)
    case("argmin", lambda a: a.argmin(1), lambda r: [r.distinct(3, 4, 5)], no_grad=(0,))
    case("min_all", lambda a: a.min(), lambda r: [r.distinct(3, 4)])
    case("sin", torch.sin, lambda r: [r.randn(3, 4, scale=2)])
    case("cos", torch.cos, lambda r: [r.randn(3, 4, scale=2)])
    case("reciprocal", torch.reciprocal, lambda r: [r.nonzero(3, 4)])
    case("tril", lambda a: a.tril(), lambda r: [r.randn(4, 5)])
    case("triu_diagonal", lambda a: a.triu(1), lambda r: [r.randn(2, 3, 4)])
    case("tril_negative_diagonal", lambda a: a.tril(-1), lambda r: [r.randn(4, 3)])
    case("clone", lambda a: a.clone() * 2, lambda r: [r.randn(3, 4)])
    case("where_scalar", lambda c, a: torch.where(c.bool(), a, torch.tensor(0.5, dtype=a.dtype)),
         lambda r: [r.mask(3, 4), r.randn(3, 4)], no_grad=(0,))
    case("arange_float", lambda: torch.arange(0.5, 3.0, 0.25), lambda r: [])
    case("linspace", lambda: torch.linspace(-1.0, 1.0, 7), lambda r: [])
    case("linspace_tenths", lambda: torch.linspace(0.0, 1.0, 11), lambda r: [])
    case("eye", lambda: torch.eye(3), lambda r: [])
    case("eye_rect", lambda: torch.eye(2, 4), lambda r: [])

    # --- special values: NaN propagates and infinities follow IEEE, as in PyTorch
    nan, inf = float("nan"), float("inf")

    def special(r):
        return [torch.tensor([[1.0, nan, -2.0], [inf, -inf, 0.5]])]
    case("nan_maximum", torch.maximum,
         lambda r: [torch.tensor([1.0, nan, 3.0, nan]), torch.tensor([nan, 2.0, 1.0, nan])], no_grad=(0, 1))
    case("nan_max_all", lambda a: a.max(), special, no_grad=(0,))
    case("nan_max_dim", lambda a: a.max(1), special, no_grad=(0,))
    case("nan_relu", torch.relu, special, no_grad=(0,))
    case("nan_clamp", lambda a: a.clamp(-1, 1), special, no_grad=(0,))
    case("nan_sum", lambda a: a.sum(1), special, no_grad=(0,))
    case("nan_softmax", lambda a: a.softmax(-1), special, no_grad=(0,))
    case("inf_exp_log", lambda a: torch.stack([a.exp(), a.abs().log()]),
         lambda r: [torch.tensor([-inf, 0.0, inf, 1.0])], no_grad=(0,))
    # A row masked entirely: PyTorch's softmax gives NaN there (0/0), the other row is unaffected.
    case("softmax_all_masked_row", lambda a: a.softmax(-1),
         lambda r: [torch.tensor([[-inf, -inf, -inf], [0.0, -inf, 1.0]])], no_grad=(0,))
    # tril/triu write zeros: an infinity outside the triangle becomes 0, not inf * 0 = NaN.
    case("tril_inf", lambda a: a.tril(), lambda r: [torch.tensor([[1.0, -inf, -inf], [2.0, 3.0, -inf], [4.0, 5.0, 6.0]])],
         no_grad=(0,))
    case("triu_inf", lambda a: a.triu(1), lambda r: [torch.tensor([[-inf, 1.0, 2.0], [inf, -inf, 3.0], [nan, inf, inf]])],
         no_grad=(0,))
    # Ties: argmax/argmin return the first extreme index (documented by PyTorch).
    case("argmax_ties", lambda a: a.argmax(1), lambda r: [torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], no_grad=(0,))
    case("argmin_ties", lambda a: a.argmin(1), lambda r: [torch.tensor([[1.0, 0.0, 0.0], [2.0, 2.0, 2.0]])], no_grad=(0,))

    # --- PyTorch's shape rules in less common spellings
    case("add_scalar_tensor", lambda a, b: a + b, lambda r: [r.randn(3, 4), r.randn(1).reshape(())])  # a 0-d operand
    case("matmul_vec_batched", torch.matmul, lambda r: [r.randn(5), r.randn(2, 5, 3)])
    case("matmul_batched_vec", torch.matmul, lambda r: [r.randn(2, 3, 5), r.randn(5)])
    case("sum_dims_negative", lambda a: a.sum((-1, 0)), lambda r: [r.randn(3, 4, 5)])
    case("squeeze_noop", lambda a: a.squeeze(1), lambda r: [r.randn(3, 4)])  # not size 1: unchanged
    case("unsqueeze_negative", lambda a: a.unsqueeze(-1), lambda r: [r.randn(3, 4)])
    case("flatten_range", lambda a: a.flatten(0, 1), lambda r: [r.randn(2, 3, 4)])
    case("permute_negative", lambda a: a.permute(-1, 0, 1), lambda r: [r.randn(2, 3, 4)])
    case("stack_negative_dim", lambda a, b: torch.stack([a, b], -1), lambda r: [r.randn(2, 3), r.randn(2, 3)])
    case("chunk_uneven", lambda a: a.chunk(3, 0), lambda r: [r.randn(7, 2)])
    case("index_select_dim1", lambda x, i: x.index_select(1, i),
         lambda r: [r.randn(3, 5), torch.tensor([4, 4, 0], dtype=torch.int32)])
    case("gather_dim0", lambda x, i: x.gather(0, i),
         lambda r: [r.randn(3, 4), torch.tensor([[2, 0, 1, 1], [0, 0, 2, 1]], dtype=torch.int32)])
    case("one_hot_inferred", lambda i: F.one_hot(i), lambda r: [torch.tensor([3, 0, 1], dtype=torch.int32)])
    case("int_eq", lambda a, b: (a == b).float(),
         lambda r: [torch.tensor([1, 2, 3, 4], dtype=torch.int32), torch.tensor([1, 0, 3, 5], dtype=torch.int32)])
    case("int_views", lambda a, b: torch.cat([a.T, b.T[1:]], 0).reshape(-1),
         lambda r: [r.ints(0, 100, 2, 3), r.ints(0, 100, 2, 3)])
    case("layer_norm_eps", lambda x, w, b: F.layer_norm(x, [6], w, b, eps=0.1),
         lambda r: [r.randn(4, 6, scale=0.3), r.randn(6, scale=0.3, shift=1), r.randn(6, scale=0.3)])
    case("cross_entropy_smoothing_sum", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2, reduction="sum"),
         lambda r: [r.randn(6, 5, scale=2), targets_with_ignored(r, 6, 5)])
    case("cross_entropy_smoothing_none", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2, reduction="none"),
         lambda r: [r.randn(6, 5, scale=2), targets_with_ignored(r, 6, 5)])
    case("nll_loss_sum", lambda x, t: F.nll_loss(x, t, reduction="sum"),
         lambda r: [r.randn(6, 5), targets_with_ignored(r, 6, 5)])
    case("mse_loss_sum", lambda a, b: F.mse_loss(a, b, reduction="sum"), lambda r: [r.randn(3, 4), r.randn(3, 4)])
    case("mse_loss_none", lambda a, b: F.mse_loss(a, b, reduction="none"), lambda r: [r.randn(3, 4), r.randn(3, 4)])

    case("attention_causal_rect", lambda q, k, v: attention(q, k, v, True),
         lambda r: [r.randn(2, 2, 3, 4), r.randn(2, 2, 5, 4), r.randn(2, 2, 5, 4)])
    # A key-padding mask [B, 1, 1, S]: the last keys of the second sequence are padding.
    case("attention_mask", lambda q, k, v, m: attention(q, k, v, False, m),
         lambda r: [r.randn(2, 2, 4, 3), r.randn(2, 2, 5, 3), r.randn(2, 2, 5, 3),
                    torch.tensor([1.0, 1, 1, 1, 1, 1, 1, 1, 0, 0]).reshape(2, 1, 1, 5)], no_grad=(3,))

    # --- strided inputs: transposed, sliced and expanded (stride-0) operands reach the kernels as views
    case("overlapping_slices", lambda a: a[:, 0:4] * a[:, 2:6], lambda r: [r.randn(3, 6)])
    case("matmul_expanded_batch", lambda a, b: a.expand(3, 4, 5) @ b, lambda r: [r.randn(1, 4, 5), r.randn(3, 5, 2)])
    case("matmul_stride0", lambda a, v: a @ v.expand(5, 3), lambda r: [r.randn(4, 5), r.randn(5, 1)])
    case("exp_expanded", lambda a: a.expand(3, 4).exp(), lambda r: [r.randn(1, 4)])
    case("sum_transposed", lambda a: a.T.sum(0), lambda r: [r.randn(4, 6)])
    case("max_transposed", lambda a: a.T.max(1), lambda r: [r.distinct(5, 3)])
    case("cumsum_transposed", lambda a: a.T.cumsum(1), lambda r: [r.randn(4, 3)])
    case("softmax_transposed", lambda a: a.T.softmax(-1), lambda r: [r.randn(5, 3, scale=2)])
    case("log_softmax_sliced", lambda a: a[:, 1:6:2].log_softmax(-1), lambda r: [r.randn(4, 7, scale=2)])
    case("layer_norm_transposed", lambda x, w, b: F.layer_norm(x.transpose(0, 1), [4], w, b),
         lambda r: [r.randn(3, 2, 4), r.randn(4, scale=0.3, shift=1), r.randn(4, scale=0.3)])
    case("cross_entropy_sliced", lambda x, t: F.cross_entropy(x[:, :5], t),
         lambda r: [r.randn(6, 8, scale=2), r.ints(0, 5, 6)])
    case("cat_transposed", lambda a, b: torch.cat([a.T, b], 0), lambda r: [r.randn(3, 2), r.randn(4, 3)])
    case("embedding_transposed_indices", lambda i, w: F.embedding(i.T, w),
         lambda r: [torch.tensor([[0, 1, 2], [3, 3, 1]], dtype=torch.int32), r.randn(4, 3)])

    # --- autograd semantics
    case("fanout", lambda a: a * a + a.exp(), lambda r: [r.randn(3, 4)])
    case("shared_subexpression", lambda a: (lambda y: y * y + y)(a.tanh()), lambda r: [r.randn(3, 4)])
    case("detach", lambda a: a * a.detach(), lambda r: [r.randn(3, 4)])

    def no_grad_constant(a):
        with torch.no_grad():
            z = a * 2
        return a * 3 + z
    case("no_grad_constant", no_grad_constant, lambda r: [r.randn(3, 4)])
    return fx


def accumulation_case(fx):
    """Two backward passes into the same leaf add up: grad = d<x*x, p0>/dx + d<exp(x), p1>/dx."""
    r = Inputs("accumulate")
    x32 = r.randn(3, 4)
    p0, p1 = r.randn(3, 4), r.randn(3, 4)
    x = x32.double().requires_grad_(True)
    ((x * x) * p0.double()).sum().backward()
    (x.exp() * p1.double()).sum().backward()
    fx.tensors.update({"accumulate/in/0": x32, "accumulate/proj/0": p0, "accumulate/proj/1": p1,
                       "accumulate/grad/0": x.grad.float()})


# ---------------------------------------------------------------------------------------------
# Optimizers, gradient clipping, the learning-rate schedule.
def optim_fixture():
    tensors, meta = {}, {}
    steps = 6
    configs = {
        "sgd": (lambda ps: torch.optim.SGD(ps, lr=0.1), None),
        "sgd_momentum": (lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9), None),
        "sgd_nesterov_wd": (lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01,
                                                       nesterov=True), None),
        "adam": (lambda ps: torch.optim.Adam(ps, lr=1e-2), None),
        "adam_wd": (lambda ps: torch.optim.Adam(ps, lr=1e-2, weight_decay=0.1), None),
        "adamw": (lambda ps: torch.optim.AdamW(ps, lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1), None),
        # Two groups: decay for the matrix, none for the vector, as nanoGPT configures it.
        "adamw_groups": (lambda ps: torch.optim.AdamW([{"params": [ps[0]], "weight_decay": 0.1},
                                                       {"params": [ps[1]], "weight_decay": 0.0}],
                                                      lr=1e-2, betas=(0.9, 0.95)), None),
        # A learning rate per group, overriding the optimizer's.
        "adamw_group_lr": (lambda ps: torch.optim.AdamW([{"params": [ps[0]], "lr": 1e-2}, {"params": [ps[1]], "lr": 1e-3}],
                                                        lr=5e-3, weight_decay=0.1), None),
        # A large eps makes its place visible: PyTorch adds it to sqrt(v_hat), after bias correction.
        "adamw_large_eps": (lambda ps: torch.optim.AdamW(ps, lr=1e-2, eps=0.1, weight_decay=0.1), None),
        # The learning rate changes between steps (as a schedule does): 1e-2, 5e-3, 2e-3, ...
        "adamw_lr_change": (lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.1), [1e-2, 5e-3, 2e-3, 1e-3, 4e-3, 8e-3]),
    }
    for name, (make, lrs) in configs.items():
        r = Inputs("optim/" + name)
        p32 = [r.randn(3, 4), r.randn(5)]
        grads32 = [[r.randn(3, 4), r.randn(5)] for _ in range(steps)]
        params = [p.double().requires_grad_(True) for p in p32]
        opt = make(params)
        tensors[f"{name}/param/0"], tensors[f"{name}/param/1"] = p32
        for s in range(steps):
            if lrs is not None:
                for group in opt.param_groups:
                    group["lr"] = lrs[s]
            for i, (p, g) in enumerate(zip(params, grads32[s])):
                p.grad = g.double()
                tensors[f"{name}/step{s}/grad/{i}"] = g
            opt.step()
            for i, p in enumerate(params):
                tensors[f"{name}/step{s}/param/{i}"] = p.detach().float()
        if lrs is not None:
            tensors[f"{name}/lr"] = torch.tensor(lrs, dtype=torch.float32)
    meta["optimizers"] = json.dumps(list(configs))
    meta["steps"] = str(steps)

    # clip_grad_norm_: returns the total norm before clipping; scales by max_norm / (norm + 1e-6) if < 1.
    for name, max_norm in {"clip": 1.0, "clip_noop": 100.0}.items():
        r = Inputs("optim/" + name)
        grads32 = [r.randn(3, 4), r.randn(5), r.randn(2, 2, 2)]
        params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads32]
        for p, g in zip(params, grads32):
            p.grad = g.double()
        total = torch.nn.utils.clip_grad_norm_(params, max_norm)
        for i, (p, g) in enumerate(zip(params, grads32)):
            tensors[f"{name}/grad/{i}"] = g
            tensors[f"{name}/clipped/{i}"] = p.grad.float()
        tensors[f"{name}/total_norm"] = torch.tensor([float(total)], dtype=torch.float32)
        tensors[f"{name}/max_norm"] = torch.tensor([max_norm], dtype=torch.float32)

    # nanoGPT's get_lr (train.py), verbatim in its logic: warmup to (it+1)/(warmup+1) of the peak,
    # cosine down to min_lr at lr_decay_iters, min_lr after.
    def get_lr(it, learning_rate, min_lr, warmup_iters, lr_decay_iters):
        if it < warmup_iters:
            return learning_rate * (it + 1) / (warmup_iters + 1)
        if it > lr_decay_iters:
            return min_lr
        decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
        assert 0 <= decay_ratio <= 1
        coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
        return min_lr + coeff * (learning_rate - min_lr)

    schedule = (6e-4, 6e-5, 10, 100)
    tensors["schedule/args"] = torch.tensor(schedule, dtype=torch.float32)
    tensors["schedule/lr"] = torch.tensor([get_lr(it, *schedule) for it in range(131)], dtype=torch.float32)
    return tensors, meta


# ---------------------------------------------------------------------------------------------
# The whole-model regression (llm.c's test_gpt2.c): a small GPT, a fixed batch, logits, loss, every
# gradient and a 10-step AdamW loss curve.
GPT = dict(vocab=65, layers=2, heads=4, embd=48, block=16, batch=4)  # also stored as the tensor "config"


def gpt_params(r):
    """Weights in the names and shapes of nanoGPT's model.py; lm_head is tied to wte. Biases and
    layer-norm parameters are random (not 0 and 1) so a bug that drops one cannot hide."""
    V, L, C, T = GPT["vocab"], GPT["layers"], GPT["embd"], GPT["block"]
    p = {"wte.weight": r.randn(V, C, scale=0.3), "wpe.weight": r.randn(T, C, scale=0.1)}

    def linear(name, n_out, n_in):
        p[name + ".weight"] = r.randn(n_out, n_in, scale=1 / math.sqrt(n_in))
        p[name + ".bias"] = r.randn(n_out, scale=0.05)

    def layer_norm(name):
        p[name + ".weight"] = r.randn(C, scale=0.1, shift=1.0)
        p[name + ".bias"] = r.randn(C, scale=0.1)

    for l in range(L):
        h = f"h.{l}."
        layer_norm(h + "ln_1")
        linear(h + "attn.c_attn", 3 * C, C)
        linear(h + "attn.c_proj", C, C)
        layer_norm(h + "ln_2")
        linear(h + "mlp.c_fc", 4 * C, C)
        linear(h + "mlp.c_proj", C, 4 * C)
    layer_norm("ln_f")
    return p


def gpt_forward(p, idx, targets):
    B, T = idx.shape
    C, H = GPT["embd"], GPT["heads"]
    x = p["wte.weight"][idx] + p["wpe.weight"][:T]                      # (B, T, C)
    for l in range(GPT["layers"]):
        h = f"h.{l}."
        a = F.layer_norm(x, [C], p[h + "ln_1.weight"], p[h + "ln_1.bias"])
        qkv = F.linear(a, p[h + "attn.c_attn.weight"], p[h + "attn.c_attn.bias"])  # (B, T, 3C)
        q, k, v = qkv.split(C, dim=2)
        q, k, v = (t.reshape(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D)
        y = attention(q, k, v, causal=True).transpose(1, 2).reshape(B, T, C)
        x = x + F.linear(y, p[h + "attn.c_proj.weight"], p[h + "attn.c_proj.bias"])
        m = F.layer_norm(x, [C], p[h + "ln_2.weight"], p[h + "ln_2.bias"])
        m = F.gelu(F.linear(m, p[h + "mlp.c_fc.weight"], p[h + "mlp.c_fc.bias"]))
        x = x + F.linear(m, p[h + "mlp.c_proj.weight"], p[h + "mlp.c_proj.bias"])
    x = F.layer_norm(x, [C], p["ln_f.weight"], p["ln_f.bias"])
    logits = x @ p["wte.weight"].T                                     # (B, T, V)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return logits, loss


GPT_STEPS = 10
GPT_ADAMW = dict(lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)


def gpt_run(p32, idx, targets, dtype):
    # A copy: .to(float32) of a float32 tensor is the tensor itself, which the optimizer would update in place.
    params = {k: v.detach().clone().to(dtype).requires_grad_(True) for k, v in p32.items()}
    logits, loss = gpt_forward(params, idx.long(), targets.long())
    loss.backward()
    grads = {k: v.grad.clone() for k, v in params.items()}
    # nanoGPT's grouping: weight decay on every 2-D tensor (matrices, embeddings), none on the rest.
    decay = [v for v in params.values() if v.dim() >= 2]
    no_decay = [v for v in params.values() if v.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": GPT_ADAMW["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=GPT_ADAMW["lr"], betas=GPT_ADAMW["betas"], eps=GPT_ADAMW["eps"])
    losses = []
    for step in range(GPT_STEPS):
        if step > 0:
            opt.zero_grad(set_to_none=True)
            _, l = gpt_forward(params, idx.long(), targets.long())
            l.backward()
        else:
            l = loss
        losses.append(float(l))
        opt.step()
    return logits.detach(), loss.detach(), grads, losses, {k: v.detach() for k, v in params.items()}


def gpt_fixture():
    r = Inputs("gpt")
    p32 = gpt_params(r)
    B, T, V = GPT["batch"], GPT["block"], GPT["vocab"]
    tokens = r.ints(0, V, B, T + 1)
    idx, targets = tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()
    logits, loss, grads, losses, final = gpt_run(p32, idx, targets, torch.float64)
    logits32, loss32, grads32, losses32, final32 = gpt_run(p32, idx, targets, torch.float32)
    tensors = {"config": torch.tensor([GPT[k] for k in ("vocab", "layers", "heads", "embd", "block", "batch")],
                                      dtype=torch.int32),
               "adamw": torch.tensor([GPT_ADAMW["lr"], *GPT_ADAMW["betas"], GPT_ADAMW["eps"],
                                      GPT_ADAMW["weight_decay"]], dtype=torch.float32),
               "idx": idx, "targets": targets, "logits": logits.float(),
               "loss": loss.float().reshape(1), "losses": torch.tensor(losses, dtype=torch.float32)}
    for k in p32:
        tensors["param/" + k] = p32[k]
        tensors["grad/" + k] = grads[k].float()
        tensors["final/" + k] = final[k].float()
    yard = {"logits": max_abs_diff(logits32, logits), "loss": abs(float(loss32) - float(loss)),
            "grad": max(max_abs_diff(grads32[k], grads[k]) for k in p32),
            "losses": max(abs(a - b) for a, b in zip(losses32, losses)),
            "final": max(max_abs_diff(final32[k], final[k]) for k in p32)}
    meta = {"config": json.dumps(GPT), "adamw": json.dumps(GPT_ADAMW), "steps": str(GPT_STEPS),
            "params": json.dumps(list(p32)),
            "yardstick": json.dumps({k: float(f"{v:.3g}") for k, v in yard.items()})}
    return tensors, meta


# ---------------------------------------------------------------------------------------------
# A file in every dtype the engine reads, for its safetensors reader. Values follow formulas the
# C# test recomputes: f32[i] = i * 0.5 - 1, i32[i] = i * 7 - 20, and the bf16/f16 tensors hold the
# values listed in their f32 twins (all exactly representable, so no rounding question arises).
def dtype_fixture():
    f32 = (torch.arange(24, dtype=torch.float32) * 0.5 - 1).reshape(2, 3, 4)
    i32 = (torch.arange(6, dtype=torch.int32) * 7 - 20).reshape(3, 2)
    halves = torch.tensor([1.5, -2.25, 0.0, 0.125, -1024.0, 96.0], dtype=torch.float32)
    tensors = {
        "f32": f32, "i32": i32,
        "bf16": halves.to(torch.bfloat16), "bf16_as_f32": halves,
        "f16": halves.to(torch.float16), "f16_as_f32": halves,
        "scalar": torch.tensor(3.25, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }
    assert torch.equal(tensors["bf16"].float(), halves) and torch.equal(tensors["f16"].float(), halves)
    return tensors, {"format": "pt", "written_by": "tests/parity/safetensors_io.py"}

# ---------------------------------------------------------------------------------------------
# Large cases: past the engine's parallel thresholds (65 536 elements for element-wise, row and
# reduction kernels, 2 Mflop for the GEMM), with sizes that are not multiples of any block, so the
# multi-threaded partitioning and its remainders are compared with PyTorch too. Storing such tensors
# whole would take megabytes, so the inputs and projections follow a formula both sides compute bit
# for bit (`hashed`, mirrored by LargeCases.Hashed in C#), and the file keeps, per output and per
# gradient, every STRIDE-th element (and the last) plus the dot product with a formula weight over all
# elements: a chunk computed wrongly, or not at all, moves the dot product far past its tolerance.
# Layout of engine_large.safetensors, for a case NAME: NAME/spec/i = [kind (0 float, 1 int), seed, a, b]
# and NAME/shape/i for input i (float: a + b·u with u in [0,1) on a 2^-24 grid; int: h mod a, with every
# b-th set to -100 when b > 0); NAME/out/k/sample, NAME/out/k/dot (with weights seed 500+k in [-1,1));
# NAME/grad/i/sample, NAME/grad/i/dot (seed 1000+i); NAME/stride. Projections: seed 500+k in [-1,1).
LARGE_STRIDE = 53


def hashed_bits(n, seed):
    """32-bit hashes of 0..n-1 (a multiply-xorshift mix), identical to LargeCases.HashedBits in C#."""
    m = np.uint64(0xFFFFFFFF)
    h = (np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B1) + np.uint64((seed * 0x85EBCA77 + 1) & 0xFFFFFFFF)) & m
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(0x2C1B3C6D)) & m
    h ^= h >> np.uint64(12)
    h = (h * np.uint64(0x297A2D39)) & m
    h ^= h >> np.uint64(15)
    return h


def hashed(shape, seed, low, width):
    """low + width·u, u = (h >> 8) / 2^24: with width a power of two every value is exact in float32."""
    n = math.prod(shape)
    u = (hashed_bits(n, seed) >> np.uint64(8)).astype(np.float64) / 2.0 ** 24
    return torch.from_numpy(low + width * u).float().reshape(shape)


def hashed_ints(shape, seed, modulus, ignore_every=0):
    n = math.prod(shape)
    v = (hashed_bits(n, seed) % np.uint64(modulus)).astype(np.int64)
    if ignore_every:
        v[::ignore_every] = -100
    return torch.from_numpy(v).int().reshape(shape)


def large_cases():
    tensors = {}

    def case(name, fn, specs):
        """specs: one (shape, seed, a, b, kind) per input; float inputs require grad."""
        inputs = []
        for i, (shape, seed, a, b, kind) in enumerate(specs):
            t = hashed(shape, seed, a, b) if kind == 0 else hashed_ints(shape, seed, a, b)
            inputs.append(t)
            tensors[f"{name}/spec/{i}"] = torch.tensor([kind, seed, a, b], dtype=torch.float32)
            tensors[f"{name}/shape/{i}"] = torch.tensor(shape, dtype=torch.int32)
        xs = [t.double().requires_grad_(True) if t.is_floating_point() else t.long() for t in inputs]
        outs = fn(*xs)
        outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
        terms = []
        for k, o in enumerate(outs):
            w = hashed(o.shape, 500 + k, -1.0, 2.0).double()
            summarise(f"{name}/out/{k}", o.detach(), w)
            if o.requires_grad:
                terms.append((o * w).sum())
        torch.autograd.backward(terms)
        for i, x in enumerate(xs):
            if x.is_floating_point():
                summarise(f"{name}/grad/{i}", x.grad, hashed(x.shape, 1000 + i, -1.0, 2.0).double())
        tensors[f"{name}/stride"] = torch.tensor([LARGE_STRIDE], dtype=torch.int32)

    def summarise(key, t, weight):
        flat = t.reshape(-1)
        picks = list(range(0, flat.numel(), LARGE_STRIDE))
        if picks[-1] != flat.numel() - 1:
            picks.append(flat.numel() - 1)
        tensors[key + "/sample"] = flat[picks].float()
        tensors[key + "/dot"] = torch.tensor([float((t.double() * weight).sum())], dtype=torch.float32)

    F32, I32 = 0, 1
    big = (257, 301)   # 77 357 elements: above 65 536, a multiple of nothing relevant
    case("large_gelu", F.gelu, [(big, 1, -4.0, 8.0, F32)])
    case("large_exp_transposed", lambda a: a.T.exp(), [((301, 257), 2, -2.0, 4.0, F32)])
    case("large_contiguous", lambda a: a.T.contiguous(), [((301, 257), 3, -2.0, 4.0, F32)])
    case("large_add_bcast", lambda a, b: a + b, [(big, 4, -2.0, 4.0, F32), ((301,), 5, -2.0, 4.0, F32)])
    case("large_mul", lambda a, b: a * b, [(big, 6, -2.0, 4.0, F32), (big, 7, -2.0, 4.0, F32)])
    case("large_scalar_ops", lambda a: a * 1.5 + 0.25, [(big, 8, -2.0, 4.0, F32)])
    case("large_sum_dim", lambda a: a.sum(1), [(big, 9, -2.0, 4.0, F32)])
    case("large_mean_middle", lambda a: a.mean(1), [((3, 257, 101), 10, -2.0, 4.0, F32)])
    case("large_softmax", lambda a: a.softmax(-1), [(big, 11, -8.0, 16.0, F32)])
    case("large_log_softmax", lambda a: a.log_softmax(-1), [((301, 257), 12, -8.0, 16.0, F32)])
    case("large_layer_norm", lambda x, w, b: F.layer_norm(x, [301], w, b),
         [(big, 13, -2.0, 4.0, F32), ((301,), 14, 0.5, 1.0, F32), ((301,), 15, -0.5, 1.0, F32)])
    case("large_cross_entropy", lambda x, t: F.cross_entropy(x, t),
         [((1031, 67), 16, -8.0, 16.0, F32), ((1031,), 17, 67, 97, I32)])
    # 2·72·200·100 = 2.9 Mflop, past the GEMM's 2 Mflop parallel threshold, forward and backward.
    case("large_matmul", torch.matmul, [((72, 200), 18, -2.0, 4.0, F32), ((200, 100), 19, -2.0, 4.0, F32)])
    case("large_matmul_tb", lambda a, b: a @ b.T, [((72, 200), 20, -2.0, 4.0, F32), ((100, 200), 21, -2.0, 4.0, F32)])
    # 4096 tokens over 65 rows: the scatter-add of the backward pass has many writers per row.
    case("large_embedding", lambda i, w: F.embedding(i, w), [((64, 64), 22, 65, 0, I32), ((65, 32), 23, -2.0, 4.0, F32)])
    case("large_attention_causal", lambda q, k, v: attention(q, k, v, True),  # 4·4·64·64 scores
         [((4, 4, 64, 32), 24, -2.0, 4.0, F32), ((4, 4, 64, 32), 25, -2.0, 4.0, F32), ((4, 4, 64, 32), 26, -2.0, 4.0, F32)])
    return tensors, {"stride": str(LARGE_STRIDE)}


def main():
    os.makedirs(OUT, exist_ok=True)
    ops = op_cases()
    accumulation_case(ops)
    ops.write(os.path.join(OUT, "engine_ops.safetensors"))
    for name, make in {"large": large_cases, "optim": optim_fixture, "gpt": gpt_fixture,
                       "dtypes": dtype_fixture}.items():
        tensors, meta = make()
        safetensors_io.write(os.path.join(OUT, f"engine_{name}.safetensors"), tensors, meta)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT) if f.startswith("engine_"))
    print(f"{len(ops.names)} op cases + accumulate, optimizers, GPT regression, dtypes: "
          f"{total / 1024:.0f} KiB in {OUT}")


if __name__ == "__main__":
    main()
