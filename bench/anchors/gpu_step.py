"""Anchor for the `gpu-step` and `gpu-step-gpt2` benchmarks: tokens per second of a full GPT training
step on the GPU in PyTorch (2.x), the same model and step as bench/LlmCourse.Bench/GpuStepBenchmark.cs.

usage: gpu_step.py VOCAB LAYERS HEADS EMBD BLOCK BATCH DTYPE MODE WARMUP STEPS
  DTYPE: bf16 (torch.autocast bfloat16, fp32 master weights) or fp32; MODE: eager or compile.
The last line printed is tokens per second (BATCH * BLOCK * STEPS / seconds, CUDA-synchronised).

The model is nanoGPT's model.py as the course's Gpt.cs builds it: pre-LN blocks, no biases, exact GELU,
dropout 0, the output layer tied to the token embedding, attention by F.scaled_dot_product_attention
(is_causal). The step is nanoGPT's train.py: a random batch (pinned host memory, non-blocking copy),
forward and loss under autocast, backward, clip_grad_norm_(1.0), fused AdamW (lr 6e-4, betas 0.9/0.95,
weight decay 0.1 on 2-D weights), zero_grad(set_to_none=True). The benchmark unsets OPENBLAS_CORETYPE
and OPENBLAS_L2_SIZE for this process, like the CPU anchors; the BLAS and device used are printed.
"""
import math
import sys
import time

vocab, layers, heads, embd, block, batch = (int(v) for v in sys.argv[1:7])
dtype_name, mode = sys.argv[7], sys.argv[8]
warmup, steps = int(sys.argv[9]), int(sys.argv[10])

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

assert torch.cuda.is_available(), "gpu_step.py needs a CUDA GPU"
device = "cuda"
torch.manual_seed(1337)
torch.backends.cuda.matmul.allow_tf32 = False  # the engine's fp32 default; bf16 autocast does not use it
torch.backends.cudnn.allow_tf32 = False
blas = torch.__config__.show().splitlines()
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, device {torch.cuda.get_device_name(0)}, "
      f"BLAS: {next((l.strip() for l in blas if 'BLAS_INFO' in l or 'BLAS' in l), 'unknown')}, {dtype_name} {mode}")


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(embd, 3 * embd, bias=False)
        self.c_proj = nn.Linear(embd, embd, bias=False)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(embd, dim=2)
        q = q.view(B, T, heads, C // heads).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, heads, C // heads).transpose(1, 2)
        v = v.view(B, T, heads, C // heads).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(embd, bias=False)
        self.attn = CausalSelfAttention()
        self.ln_2 = nn.LayerNorm(embd, bias=False)
        self.c_fc = nn.Linear(embd, 4 * embd, bias=False)
        self.c_proj = nn.Linear(4 * embd, embd, bias=False)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(vocab, embd)
        self.wpe = nn.Embedding(block, embd)
        self.h = nn.ModuleList([Block() for _ in range(layers)])
        self.ln_f = nn.LayerNorm(embd, bias=False)
        self.lm_head = nn.Linear(embd, vocab, bias=False)
        self.wte.weight = self.lm_head.weight  # weight tying

    def forward(self, idx, targets):
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for blk in self.h:
            x = blk(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.view(-1))


model = GPT().to(device)
params = [p for p in model.parameters() if p.requires_grad]
n_params = sum(p.numel() for p in params)
groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
          {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
optimizer = torch.optim.AdamW(groups, lr=6e-4, betas=(0.9, 0.95), fused=True)
forward = torch.compile(model) if mode == "compile" else model
autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=dtype_name == "bf16")

data = torch.randint(0, vocab, (1_000_000,), dtype=torch.long)


def get_batch():
    ix = torch.randint(len(data) - block - 1, (batch,))
    x = torch.stack([data[i:i + block] for i in ix]).pin_memory().to(device, non_blocking=True)
    y = torch.stack([data[i + 1:i + 1 + block] for i in ix]).pin_memory().to(device, non_blocking=True)
    return x, y


def step():
    x, y = get_batch()
    with autocast:
        loss = forward(x, y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss


for i in range(warmup):
    print(f"warm-up step {i}: loss {step().item():.4f}")
torch.cuda.synchronize()
start = time.perf_counter()
for _ in range(steps):
    loss = step()
torch.cuda.synchronize()
seconds = time.perf_counter() - start
tokens = batch * block * steps / seconds
print(f"{n_params} parameters, {steps} steps in {seconds:.3f} s ({seconds / steps * 1e3:.2f} ms/step), last loss {loss.item():.4f}, "
      f"MFU {6 * n_params * tokens / 989e12 * 100:.1f}%, max memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
print(f"{tokens:.1f}")
