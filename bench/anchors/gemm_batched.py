"""Anchor for the batched shapes of the `gemm` benchmark: numpy matmul over a batch, GFLOP/s.

usage: gemm_batched.py BATCH M N K TRANS THREADS [SECONDS]; the last line printed is the GFLOP/s.
numpy's matmul loops over the batch calling OpenBLAS for each product (PyTorch's bmm on CPU does
much the same), so this is the anchor for attention's [B*H] small products.
"""
import os
import sys
import time

batch, m, n, k = (int(v) for v in sys.argv[1:5])
trans = sys.argv[5].upper()
threads = sys.argv[6]
seconds = float(sys.argv[7]) if len(sys.argv) > 7 else 1.0
os.environ["OPENBLAS_NUM_THREADS"] = threads
os.environ["OMP_NUM_THREADS"] = threads

import numpy as np  # noqa: E402

rng = np.random.default_rng(0)
a = rng.standard_normal((batch, k, m) if trans[0] == "T" else (batch, m, k), dtype=np.float32)
b = rng.standard_normal((batch, n, k) if trans[1] == "T" else (batch, k, n), dtype=np.float32)
op_a = a.transpose(0, 2, 1) if trans[0] == "T" else a
op_b = b.transpose(0, 2, 1) if trans[1] == "T" else b
out = np.empty((batch, m, n), dtype=np.float32)
flops = 2.0 * batch * m * n * k

start = time.perf_counter()
np.matmul(op_a, op_b, out=out)
once = max(time.perf_counter() - start, 1e-7)
inner = max(1, int(2e-3 / once))
for _ in range(3):
    np.matmul(op_a, op_b, out=out)
best = float("inf")
deadline = time.perf_counter() + seconds
while time.perf_counter() < deadline:
    start = time.perf_counter()
    for _ in range(inner):
        np.matmul(op_a, op_b, out=out)
    best = min(best, (time.perf_counter() - start) / inner)

print(f"numpy {np.__version__}, OPENBLAS_NUM_THREADS={threads}: {batch} x {m}x{n}x{k} {trans} best {best * 1e3:.4f} ms")
print(f"{flops / best / 1e9:.3f}")
