"""Anchor for the `gpu-char-run` benchmark: nanoGPT's shakespeare_char GPU run in PyTorch (2.x, CUDA), the same
run as bench/LlmCourse.Bench/GpuCharRunBenchmark.cs: 6 layers, 6 heads, 384 dims, block 256, batch 64,
dropout 0.2, no biases, exact GELU, output layer tied to the token embedding, attention by
F.scaled_dot_product_attention (is_causal, dropout in training); AdamW (fused) 1e-3 -> 1e-4 cosine over the
run after 100 warm-up steps, betas 0.9/0.99, weight decay 0.1 on 2-D weights, clip_grad_norm_(1.0), random
256-character windows of the first 90% of the text; bf16 autocast with float32 master weights.

usage: gpu_char_run.py TINYSHAKESPEARE_PATH STEPS SEED BATCH BLOCK LAYERS EMBD DTYPE MODE [EVAL_EVERY [EVAL_ITERS]]
  DTYPE: bf16 or fp32; MODE: eager or compile (torch.compile, nanoGPT's default); EVAL_EVERY (0: at the start
  and the end only; nanoGPT: 250), EVAL_ITERS (200, nanoGPT's eval_iters).
Prints nanoGPT's estimate_loss (mean loss of EVAL_ITERS random train and validation batches, eval mode) at each
evaluation, then the line `losses: ...` (the validation loss on the whole validation text in consecutive
BLOCK-character windows, and the last estimates) in the format the benchmark prints for ours; the last line is
the training time in seconds (CUDA-synchronised, evaluations excluded). RunAnchor unsets
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for this process, as for every anchor (here the GPU does the work); the
torch, CUDA and device used are printed.
"""
import math
import sys
import time

path = sys.argv[1]
steps, seed, B, T, L, C = (int(v) for v in sys.argv[2:8])
dtype_name, mode = sys.argv[8], sys.argv[9]
eval_every = int(sys.argv[10]) if len(sys.argv) > 10 else 0
eval_iters = int(sys.argv[11]) if len(sys.argv) > 11 else 200
H, dropout = 6, 0.2

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

assert torch.cuda.is_available(), "gpu_char_run.py needs a CUDA GPU"
device = "cuda"
torch.manual_seed(seed)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, device {torch.cuda.get_device_name(0)}, {dtype_name} {mode}")

text = open(path).read()
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = np.array([stoi[c] for c in text], dtype=np.int64)
n = int(len(data) * 0.9)
train, val = torch.from_numpy(data[:n]), torch.from_numpy(data[n:])
V = len(chars)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C, bias=False)
        self.c_attn = nn.Linear(C, 3 * C, bias=False)
        self.c_proj = nn.Linear(C, C, bias=False)
        self.ln_2 = nn.LayerNorm(C, bias=False)
        self.c_fc = nn.Linear(C, 4 * C, bias=False)
        self.m_proj = nn.Linear(4 * C, C, bias=False)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, 2)
        q, k, v = [z.view(b, t, H, C // H).transpose(1, 2) for z in (q, k, v)]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout if self.training else 0.0)
        x = x + self.drop(self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c)))
        return x + self.drop(self.m_proj(F.gelu(self.c_fc(self.ln_2(x)))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.drop = nn.Dropout(dropout)
        self.h = nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = nn.LayerNorm(C, bias=False)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight") or name.endswith("m_proj.weight"):
                nn.init.normal_(p, 0, 0.02 / math.sqrt(2 * L))
            elif p.dim() == 2:
                nn.init.normal_(p, 0, 0.02)

    def forward(self, idx, targets):
        x = self.drop(self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device)))
        for blk in self.h:
            x = blk(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)
        return F.cross_entropy(logits.view(-1, V).float(), targets.view(-1), reduction="sum" if not self.training else "mean")


model = GPT().to(device)
params = list(model.parameters())
optimizer = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                               {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
                              lr=1e-3, betas=(0.9, 0.99), fused=True)
forward = torch.compile(model) if mode == "compile" else model
autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=dtype_name == "bf16")
warmup = min(100, steps // 2)


def get_lr(it, lr=1e-3, mn=1e-4):
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    r = (it - warmup) / max(1, steps - warmup)
    return mn + 0.5 * (1 + math.cos(math.pi * min(r, 1.0))) * (lr - mn)


def get_batch(split=None):
    data = train if split is None else split
    ix = torch.randint(len(data) - T - 1, (B,))
    x = torch.stack([data[i:i + T] for i in ix]).pin_memory().to(device, non_blocking=True)
    y = torch.stack([data[i + 1:i + 1 + T] for i in ix]).pin_memory().to(device, non_blocking=True)
    return x, y


@torch.no_grad()
def estimate_loss():
    """nanoGPT's estimate_loss: the mean loss of eval_iters random batches of each split, in eval mode."""
    model.eval()
    out = {}
    for name, split in (("train", train), ("val", val)):
        total = 0.0
        for _ in range(eval_iters):
            x, y = get_batch(split)
            with autocast:
                total += model(x, y).item() / y.numel()
        out[name] = total / eval_iters
    model.train()
    return out


def evaluate(it):
    losses = estimate_loss()
    print(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f} ({seconds:.1f} s training)", flush=True)
    return losses


@torch.no_grad()
def full_validation():
    model.eval()
    total, count = 0.0, 0
    starts = [s for s in range(0, len(val) - 1, T) if s + T + 1 <= len(val)]
    for g in range(0, len(starts), 64):
        group = starts[g:g + 64]
        x = torch.stack([val[s:s + T] for s in group]).to(device)
        y = torch.stack([val[s + 1:s + T + 1] for s in group]).to(device)
        with autocast:
            total += model(x, y).item()
        count += y.numel()
    model.train()
    return total / count


seconds = 0.0
losses = evaluate(0)
torch.cuda.synchronize()
start = time.perf_counter()
for it in range(steps):
    for group in optimizer.param_groups:
        group["lr"] = get_lr(it)
    x, y = get_batch()
    with autocast:
        loss = forward(x, y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    if eval_every > 0 and (it + 1) % eval_every == 0 and it + 1 < steps:
        torch.cuda.synchronize()   # the clock stops while evaluating
        seconds += time.perf_counter() - start
        evaluate(it + 1)
        start = time.perf_counter()
torch.cuda.synchronize()
seconds += time.perf_counter() - start
losses = evaluate(steps)
print(f"losses: validation {full_validation():.4f} (whole text), estimated validation {losses['val']:.4f} "
      f"and train {losses['train']:.4f} ({eval_iters} batches)")
print(f"training {seconds:.1f} s ({seconds / 60:.2f} min), {B * T * steps / seconds:.0f} tokens/s, last training batch loss "
      f"{loss.item() if steps else float('nan'):.4f}; seed {seed}, max memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
print(f"{seconds:.3f}")
