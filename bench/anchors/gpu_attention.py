"""Anchor for the `gpu-attention` benchmark: milliseconds of one causal scaled_dot_product_attention
forward + backward on bf16 tensors in PyTorch (2.x; FlashAttention-2 on an H100/H200), the same shapes
as bench/LlmCourse.Bench/GpuAttentionBenchmark.cs.

usage: gpu_attention.py B H T D WARMUP STEPS
The last line printed is milliseconds per forward + backward (CUDA-synchronised mean over STEPS).
RunAnchor unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for this process, as for every anchor (the GPU does the
work here); the torch, CUDA, device and attention backend used are printed.
"""
import sys
import time

b, h, t, d, warmup, steps = (int(v) for v in sys.argv[1:7])

import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

assert torch.cuda.is_available(), "gpu_attention.py needs a CUDA GPU"
torch.manual_seed(1337)
q, k, v, g = (torch.randn(b, h, t, d, device="cuda", dtype=torch.bfloat16) for _ in range(4))
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, device {torch.cuda.get_device_name(0)}, "
      f"flash {torch.backends.cuda.flash_sdp_enabled()}")


def step():
    ql, kl, vl = (x.detach().requires_grad_() for x in (q, k, v))
    y = F.scaled_dot_product_attention(ql, kl, vl, is_causal=True)
    y.backward(g)


for _ in range(warmup):
    step()
torch.cuda.synchronize()
start = time.perf_counter()
for _ in range(steps):
    step()
torch.cuda.synchronize()
print(f"{(time.perf_counter() - start) * 1e3 / steps:.4f}")
