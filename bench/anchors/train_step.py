"""Anchor for the `train-step` benchmark: one training step (forward, backward, AdamW) of a small
nanoGPT in PyTorch on the CPU, milliseconds. The model mirrors bench/LlmCourse.Bench/TrainStepBenchmark.cs.

usage: train_step.py LAYERS HEADS EMBD BLOCK BATCH VOCAB THREADS [SECONDS]; the last line is the best ms.
PyTorch 1.13 has no fused CPU attention, so attention is nanoGPT's explicit form.
"""
import math
import sys
import time

layers, heads, embd, block, batch, vocab, threads = (int(v) for v in sys.argv[1:8])
seconds = float(sys.argv[8]) if len(sys.argv) > 8 else 3.0

import os  # noqa: E402

# OpenMP's default wait policy spins its threads between parallel regions; on a machine shared with
# other jobs that costs PyTorch up to 10x (measured: 1.7 s vs 0.19 s per GPT step under load).
# Passive waiting is what a shared or busy machine needs, so the anchor uses it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(threads)
torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(embd)
        self.c_attn = nn.Linear(embd, 3 * embd)
        self.c_proj = nn.Linear(embd, embd)
        self.ln_2 = nn.LayerNorm(embd)
        self.c_fc = nn.Linear(embd, 4 * embd)
        self.mlp_proj = nn.Linear(4 * embd, embd)
        self.register_buffer("mask", torch.ones(block, block).tril() == 0)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // heads))
        att = att.masked_fill(self.mask[:T, :T], float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(vocab, embd)
        self.wpe = nn.Embedding(block, embd)
        self.blocks = nn.ModuleList(Block() for _ in range(layers))
        self.ln_f = nn.LayerNorm(embd)
        self.lm_head = nn.Linear(embd, vocab, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.blocks:
            x = b(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, vocab), targets.view(-1))


model = Gpt()
opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
idx = torch.randint(0, vocab, (batch, block))
targets = torch.randint(0, vocab, (batch, block))


def step():
    opt.zero_grad(set_to_none=True)
    loss = model(idx, targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


for _ in range(3):
    step()
best = float("inf")
deadline = time.perf_counter() + seconds
while time.perf_counter() < deadline:
    start = time.perf_counter()
    step()
    best = min(best, time.perf_counter() - start)
params = sum(p.numel() for p in model.parameters())
print(f"torch {torch.__version__}, {threads} threads, {params} parameters: best {best * 1e3:.2f} ms per step")
print(f"{best * 1e3:.4f}")
