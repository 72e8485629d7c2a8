"""Anchor for the `gemm` benchmark: float32 matmul in numpy (OpenBLAS), GFLOP/s, best of repeats.

usage: gemm.py M N K TRANS THREADS [SECONDS]
TRANS is two letters, N or T for A and B: with T the operand is stored transposed and multiplied
through a transposed view (numpy hands BLAS the transpose flag, no copy), as our Sgemm does.
The last line printed is the GFLOP/s.
"""
import os
import sys
import time

m, n, k = (int(v) for v in sys.argv[1:4])
trans = sys.argv[4].upper()
threads = sys.argv[5]
seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 1.0
# Must be set before numpy loads OpenBLAS.
os.environ["OPENBLAS_NUM_THREADS"] = threads
os.environ["OMP_NUM_THREADS"] = threads

import numpy as np  # noqa: E402

rng = np.random.default_rng(0)
a = rng.standard_normal((k, m) if trans[0] == "T" else (m, k), dtype=np.float32)
b = rng.standard_normal((n, k) if trans[1] == "T" else (k, n), dtype=np.float32)
op_a = a.T if trans[0] == "T" else a
op_b = b.T if trans[1] == "T" else b
out = np.empty((m, n), dtype=np.float32)
flops = 2.0 * m * n * k

# Each timed sample repeats the product until it lasts about 2 ms, so small shapes are measurable.
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

print(f"numpy {np.__version__}, OPENBLAS_NUM_THREADS={threads}: {m}x{n}x{k} {trans} best {best * 1e3:.4f} ms")
print(f"{flops / best / 1e9:.3f}")
