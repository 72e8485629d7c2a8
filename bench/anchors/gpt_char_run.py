"""Anchor for the `gpt-char-run` benchmark: nanoGPT's CPU shakespeare_char run in PyTorch (4 layers,
4 heads, 128 dims, block 64, batch 12, AdamW 1e-3 -> 1e-4 cosine, warmup 100, beta2 0.99, weight decay
0.1 on matrices, clip 1, no dropout, no biases), the model written out as in src/LlmCourse/Models/Gpt.cs.

usage: gpt_char_run.py TINYSHAKESPEARE_PATH STEPS THREADS [SEED]. Prints the validation loss on the whole
validation text (every position of consecutive 64-character windows, nanoGPT's measure); the last line
is the training time in seconds. With 2000 steps: 1.9000 for seed 1337 (PyTorch 1.13, one thread).
"""
import math, os, sys, time
path, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# OpenBLAS and OpenMP threads on top of torch's oversubscribe a small machine (20x slower here): pin them.
os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
from blas_strength import describe  # unsets OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE before numpy/torch load
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1337
torch.set_num_threads(threads)
torch.manual_seed(seed)
text = open(path).read()
chars = sorted(set(text)); stoi = {c: i for i, c in enumerate(chars)}
data = np.array([stoi[c] for c in text], dtype=np.int64)
n = int(len(data) * 0.9); train, val = torch.from_numpy(data[:n]), torch.from_numpy(data[n:])
V, T, B, L, H, C = len(chars), 64, 12, 4, 4, 128
class Block(nn.Module):
    def __init__(s):
        super().__init__(); s.ln_1 = nn.LayerNorm(C); s.ln_2 = nn.LayerNorm(C)
        s.ln_1.bias = None; s.ln_2.bias = None
        s.c_attn = nn.Linear(C, 3 * C, bias=False); s.c_proj = nn.Linear(C, C, bias=False)
        s.c_fc = nn.Linear(C, 4 * C, bias=False); s.m_proj = nn.Linear(4 * C, C, bias=False)
    def forward(s, x):
        b, t, c = x.shape
        q, k, v = s.c_attn(s.ln_1(x)).split(C, 2)
        q, k, v = [z.view(b, t, H, C // H).transpose(1, 2) for z in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        att = att.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        x = x + s.c_proj((att @ v).transpose(1, 2).contiguous().view(b, t, c))
        return x + s.m_proj(F.gelu(s.c_fc(s.ln_2(x))))
class GPT(nn.Module):
    def __init__(s):
        super().__init__(); s.wte = nn.Embedding(V, C); s.wpe = nn.Embedding(T, C)
        s.h = nn.ModuleList([Block() for _ in range(L)]); s.ln_f = nn.LayerNorm(C); s.ln_f.bias = None
        for name, p in s.named_parameters():
            if name.endswith("c_proj.weight") or name.endswith("m_proj.weight"): nn.init.normal_(p, 0, 0.02 / math.sqrt(2 * L))
            elif p.dim() == 2: nn.init.normal_(p, 0, 0.02)
    def forward(s, idx):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for blk in s.h: x = blk(x)
        return F.linear(s.ln_f(x), s.wte.weight)
model = GPT()
decay = [p for p in model.parameters() if p.dim() >= 2]; nodecay = [p for p in model.parameters() if p.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": nodecay, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))
def get_lr(it, warm=100, total=steps, lr=1e-3, mn=1e-4):
    if it < warm: return lr * (it + 1) / (warm + 1)
    if it > total: return mn
    r = (it - warm) / (total - warm); return mn + 0.5 * (1 + math.cos(math.pi * r)) * (lr - mn)
def batch(d):
    ix = torch.randint(len(d) - T, (B,)); return torch.stack([d[i:i+T] for i in ix]), torch.stack([d[i+1:i+T+1] for i in ix])
@torch.no_grad()
def full_val():
    model.eval(); tot = 0.0; cnt = 0
    toks = val
    starts = list(range(0, len(toks) - 1, T))
    for s0 in range(0, len(starts), 64):
        group = [s for s in starts[s0:s0+64] if s + T + 1 <= len(toks)]
        if not group: continue
        x = torch.stack([toks[s:s+T] for s in group]); y = torch.stack([toks[s+1:s+T+1] for s in group])
        tot += F.cross_entropy(model(x).view(-1, V), y.view(-1), reduction="sum").item(); cnt += y.numel()
    model.train(); return tot / cnt
t0 = time.time()
for it in range(steps):
    for g in opt.param_groups: g["lr"] = get_lr(it)
    x, y = batch(train)
    loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
    opt.zero_grad(set_to_none=True); loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
    if (it + 1) % 500 == 0: print(f"step {it+1} loss {loss.item():.4f} {time.time()-t0:.1f}s", flush=True)
train_time = time.time() - t0
print(f"validation loss {full_val():.4f} nats/char (seed {seed}, {steps} steps)")
print(describe())
print(f"{train_time:.3f}")
