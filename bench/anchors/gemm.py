"""Anchor for the `gemm` benchmark: float32 matmul in numpy (OpenBLAS), GFLOP/s, best of repeats.

usage: gemm.py BATCH M N K TRANS THREADS [SECONDS]
BATCH 1 is one 2-D product; above 1, numpy's matmul loops over the batch calling OpenBLAS for each
product (PyTorch's bmm on CPU does much the same): the anchor for attention's [B*H] small products.
TRANS is two letters, N or T for A and B: with T the operand is stored transposed and multiplied
through a transposed view (numpy hands BLAS the transpose flag, no copy), as our Sgemm does.
The last line printed is the GFLOP/s.
"""
import os
import sys
import time

batch, m, n, k = (int(v) for v in sys.argv[1:5])
trans = sys.argv[5].upper()
threads = sys.argv[6]
seconds = float(sys.argv[7]) if len(sys.argv) > 7 else 1.0
# Must be set before numpy loads OpenBLAS.
os.environ["OPENBLAS_NUM_THREADS"] = threads
os.environ["OMP_NUM_THREADS"] = threads

from blas_strength import describe  # noqa: E402  (unsets OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE)
import numpy as np  # noqa: E402

lead = (batch,) if batch > 1 else ()
rng = np.random.default_rng(0)
a = rng.standard_normal(lead + ((k, m) if trans[0] == "T" else (m, k)), dtype=np.float32)
b = rng.standard_normal(lead + ((n, k) if trans[1] == "T" else (k, n)), dtype=np.float32)
op_a = np.swapaxes(a, -1, -2) if trans[0] == "T" else a
op_b = np.swapaxes(b, -1, -2) if trans[1] == "T" else b
out = np.empty(lead + (m, n), dtype=np.float32)
flops = 2.0 * batch * m * n * k

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

shape = f"{batch} x {m}x{n}x{k}" if batch > 1 else f"{m}x{n}x{k}"
print(f"numpy {np.__version__}, OPENBLAS_NUM_THREADS={threads}: {shape} {trans} best {best * 1e3:.4f} ms")
print(describe())
print(f"{flops / best / 1e9:.3f}")
