"""Anchor for the `engine-ops` benchmark: the same op on the same shapes in PyTorch (CPU), microseconds.

usage: engine_ops.py CASE THREADS [SECONDS]; the last line printed is the best time in microseconds.
Each case mirrors one in bench/LlmCourse.Bench/EngineOpsBenchmark.cs (shapes of the course's GPT:
B*T = 4096 rows, C = 384, 4C = 1536, 6 heads of 64, T = 256).
"""
import sys
import time

case = sys.argv[1]
threads = int(sys.argv[2])
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0

import os  # noqa: E402

# OpenMP's default wait policy spins its threads between parallel regions; on a machine shared with
# other jobs that costs PyTorch up to 10x (measured: 1.7 s vs 0.19 s per GPT step under load).
# Passive waiting is what a shared or busy machine needs, so the anchor uses it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from blas_strength import describe  # noqa: E402  (unsets OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(threads)
torch.manual_seed(0)


def grad_input(*shape):
    return torch.randn(*shape).requires_grad_(True)


def setup():
    if case == "add":
        a, b = torch.randn(4096, 384), torch.randn(4096, 384)
        return lambda: a + b
    if case == "bias_gelu":
        x, b = torch.randn(4096, 1536), torch.randn(1536)
        return lambda: F.gelu(x + b)
    if case == "gelu_fwd_bwd":
        x = grad_input(4096, 1536)
        g = torch.randn(4096, 1536)
        return lambda: F.gelu(x).backward(g)
    if case == "layernorm_fwd_bwd":
        x, w, b = grad_input(4096, 384), grad_input(384), grad_input(384)
        g = torch.randn(4096, 384)
        return lambda: F.layer_norm(x, [384], w, b).backward(g)
    if case == "softmax_fwd_bwd":
        x = grad_input(16 * 6 * 256, 256)
        g = torch.randn(16 * 6 * 256, 256)
        return lambda: x.softmax(-1).backward(g)
    if case == "cross_entropy_fwd_bwd":
        x = grad_input(4096, 8192)
        t = torch.randint(0, 8192, (4096,))
        return lambda: F.cross_entropy(x, t).backward()
    if case == "attention_fwd_bwd":
        q, k, v = (grad_input(16, 6, 256, 64) for _ in range(3))
        g = torch.randn(16, 6, 256, 64)
        mask = torch.ones(256, 256).tril() == 0
        def run():  # PyTorch 1.13 has no fused CPU attention: nanoGPT's explicit form
            att = (q @ k.transpose(-2, -1)) * (1.0 / 8.0)
            att = att.masked_fill(mask, float("-inf")).softmax(-1)
            (att @ v).backward(g)
        return run
    if case == "adamw_step":
        p = [torch.randn(1_000_000).requires_grad_(True) for _ in range(10)]
        for t in p:
            t.grad = torch.randn(1_000_000)
        opt = torch.optim.AdamW(p, lr=1e-3, weight_decay=0.1)
        return opt.step
    raise SystemExit(f"unknown case {case}")


run = setup()
for _ in range(3):
    run()
best = float("inf")
deadline = time.perf_counter() + seconds
while time.perf_counter() < deadline:
    start = time.perf_counter()
    run()
    best = min(best, time.perf_counter() - start)
print(f"torch {torch.__version__}, {threads} threads: {case} best {best * 1e6:.1f} us")
print(describe())
print(f"{best * 1e6:.3f}")
