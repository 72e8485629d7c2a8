"""Anchor for the `gpt-step` and `gpt-step-large` benchmarks: tokens per second of a full training step
(a random batch, forward, backward, gradient clipping, AdamW) of the course's GPT, written as nanoGPT's
model.py and train.py write it, in PyTorch on the CPU.

usage: gpt_step.py VOCAB LAYERS HEADS EMBD BLOCK BATCH BIAS THREADS WARMUP STEPS ROUNDS [FOREACH]
The last line printed is the best round's tokens per second (BATCH * BLOCK * STEPS / seconds).

The model is src/LlmCourse/Models/Gpt.cs (GptConfig's defaults: no biases in the linear layers or the
layer norms unless BIAS is 1, dropout 0, the output layer tied to the token embedding, exact-erf GELU, layer norm eps
1e-5). PyTorch 1.13 has no F.scaled_dot_product_attention (it came in 2.0), so attention is nanoGPT's
manual path with its registered causal mask, as nanoGPT runs on torch < 2.0. Initialisation does not
change the speed and is left to PyTorch's defaults.
The optimizer is nanoGPT's configure_optimizers: AdamW, lr 1e-3, betas (0.9, 0.99) as in
shakespeare_char, weight decay 0.1 on the 2-D weights (matrices and embeddings) and 0 on the rest.
FOREACH (default: both, the faster kept) chooses torch's multi-tensor AdamW; nanoGPT leaves the default.
"""
import math
import sys
import time

vocab, layers, heads, embd, block, batch, bias, threads, warmup, steps, rounds = (int(v) for v in sys.argv[1:12])
foreach_choice = sys.argv[12] if len(sys.argv) > 12 else "both"

import os  # noqa: E402

# OpenMP's default wait policy spins its threads between parallel regions; on a machine shared with
# other jobs that costs PyTorch up to 10x (measured: 1.7 s vs 0.19 s per GPT step under load).
# Passive waiting is what a shared or busy machine needs, so the anchor uses it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from blas_strength import describe  # noqa: E402  (unsets OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

torch.set_num_threads(threads)
torch.manual_seed(1337)
bias = bool(bias)


class LayerNorm(nn.Module):
    """nanoGPT's LayerNorm with an optional bias (PyTorch 1.13's nn.LayerNorm cannot drop it)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, dropout=0.0):
        super().__init__()
        self.c_attn = nn.Linear(embd, 3 * embd, bias=bias)
        self.c_proj = nn.Linear(embd, embd, bias=bias)
        self.attn_dropout = nn.Dropout(dropout)
        self.resid_dropout = nn.Dropout(dropout)
        self.register_buffer("bias", torch.tril(torch.ones(block, block)).view(1, 1, block, block))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(embd, dim=2)
        k = k.view(B, T, heads, C // heads).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, heads, C // heads).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, heads, C // heads).transpose(1, 2)  # (B, nh, T, hs)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = att @ v  # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, dropout=0.0):
        super().__init__()
        self.c_fc = nn.Linear(embd, 4 * embd, bias=bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * embd, embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = LayerNorm(embd, bias)
        self.attn = CausalSelfAttention()
        self.ln_2 = LayerNorm(embd, bias)
        self.mlp = MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, dropout=0.0):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, embd),
            wpe=nn.Embedding(block, embd),
            drop=nn.Dropout(dropout),
            h=nn.ModuleList([Block() for _ in range(layers)]),
            ln_f=LayerNorm(embd, bias),
        ))
        self.lm_head = nn.Linear(embd, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying

    def forward(self, idx, targets):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for blk in self.transformer.h:
            x = blk(x)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)


def configure_optimizers(model, foreach):
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99), foreach=foreach)


# A token stream to cut random windows from, as nanoGPT's get_batch does from train.bin.
data = torch.randint(0, vocab, (100_000,), dtype=torch.long)


def get_batch():
    ix = torch.randint(len(data) - block, (batch,))
    x = torch.stack([data[i:i + block] for i in ix])
    y = torch.stack([data[i + 1:i + 1 + block] for i in ix])
    return x, y


def measure(foreach):
    model = GPT()
    model.train()
    optimizer = configure_optimizers(model, foreach)

    def step():
        x, y = get_batch()
        loss = model(x, y)
        loss_value = loss.item()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss_value

    for _ in range(warmup):
        step()
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        best = max(best, batch * block * steps / (time.perf_counter() - start))
    params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}, {threads} threads, {params} parameters, foreach={foreach}: "
          f"best of {rounds} rounds of {steps} steps {best:.0f} tokens/s ({batch * block / best * 1e3:.1f} ms per step)")
    return best


choices = {"both": [False, True], "true": [True], "false": [False]}[foreach_choice.lower()]
result = max(measure(f) for f in choices)
print(describe())
print(f"{result:.2f}")
