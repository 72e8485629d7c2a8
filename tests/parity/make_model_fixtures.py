#!/usr/bin/env python3
"""PyTorch references for the lesson models: recurrent cells and a small GPT.

Writes tests/parity/fixtures/{recurrent_cells,gpt}.safetensors, read by
tests/LlmCourse.Tests/Models/*ParityTests.cs. Run with Debian's python3-torch:

    /usr/bin/python3 tests/parity/make_model_fixtures.py

The files are written with a small safetensors writer below (the `safetensors` package is not
needed): an 8-byte little-endian header length, a JSON header, then the raw little-endian data.
Parameter names are the C# modules' names, so the tests load them with LoadStateDict.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")


def save_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if t.dtype == torch.float32:
            dtype, data = "F32", t.numpy().astype("<f4").tobytes()
        elif t.dtype in (torch.int32, torch.int64):
            dtype, data = "I32", t.to(torch.int32).numpy().astype("<i4").tobytes()
        else:
            raise TypeError(f"{name}: unsupported dtype {t.dtype}")
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Recurrent cells: a 4-step unroll of each cell, a loss that weighs every output, and the
# gradients of that loss with respect to the inputs, the initial state and every parameter.

def recurrent_cells():
    torch.manual_seed(1234)
    B, I, H, T = 3, 5, 7, 4
    out = {}
    for kind, cell in (("rnn", nn.RNNCell(I, H)), ("lstm", nn.LSTMCell(I, H)), ("gru", nn.GRUCell(I, H))):
        x = torch.randn(T, B, I, requires_grad=True)
        h0 = torch.randn(B, H, requires_grad=True)
        c0 = torch.randn(B, H, requires_grad=True)
        weights = torch.randn(T, B, H)  # the loss's weight on each output, so every element matters
        h, c, outputs, cells = h0, c0, [], []
        for t in range(T):
            if kind == "lstm":
                h, c = cell(x[t], (h, c))
                cells.append(c)
            else:
                h = cell(x[t], h)
            outputs.append(h)
        hs = torch.stack(outputs)
        loss = (hs * weights).sum()
        if kind == "lstm":
            cs = torch.stack(cells)
            loss = loss + (cs * weights.flip(0)).sum()
        loss.backward()
        for name, p in cell.named_parameters():
            out[f"{kind}.{name}"] = p
            out[f"{kind}.grad.{name}"] = p.grad
        out[f"{kind}.x"], out[f"{kind}.h0"], out[f"{kind}.weights"] = x, h0, weights
        out[f"{kind}.outputs"], out[f"{kind}.loss"] = hs, loss.reshape(1)
        out[f"{kind}.grad.x"], out[f"{kind}.grad.h0"] = x.grad, h0.grad
        if kind == "lstm":
            out["lstm.c0"], out["lstm.cells"], out["lstm.grad.c0"] = c0, cs, c0.grad
    save_safetensors(os.path.join(OUT, "recurrent_cells.safetensors"), out,
                     {"B": B, "I": I, "H": H, "T": T, "torch": torch.__version__})


# ---------------------------------------------------------------------------------------------
# GPT: the same architecture as src/LlmCourse/Models/Gpt.cs (nanoGPT's model.py: pre-LN blocks,
# learned positions, GELU MLP, tied embedding and output weights), written out here with the
# explicit masked softmax, because PyTorch 1.13 has no scaled_dot_product_attention.

class Block(nn.Module):
    def __init__(self, C, n_head, bias):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(C, elementwise_affine=True)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(C, 3 * C, bias=bias)
        self.attn.c_proj = nn.Linear(C, C, bias=bias)
        self.ln_2 = nn.LayerNorm(C)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(C, 4 * C, bias=bias)
        self.mlp.c_proj = nn.Linear(4 * C, C, bias=bias)
        if not bias:
            self.ln_1.bias = None
            self.ln_2.bias = None

    def attention(self, x):
        B, T, C = x.shape
        q, k, v = self.attn.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.attn.c_proj(y)

    def forward(self, x):
        x = x + self.attention(self.ln_1(x))
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, V, block, L, n_head, C, bias):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(block, C)
        self.h = nn.ModuleList([Block(C, n_head, bias) for _ in range(L)])
        self.ln_f = nn.LayerNorm(C)
        if not bias:
            self.ln_f.bias = None
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * L))
            elif p.dim() == 2:
                nn.init.normal_(p, 0.0, 0.02 * 10)  # larger than nanoGPT's 0.02 so the test sees real activations
            elif name.endswith(".bias") and "ln" not in name:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        return F.linear(self.ln_f(x), self.wte.weight)


def gpt():
    torch.manual_seed(4321)
    V, block, L, n_head, C, B, T = 13, 8, 2, 2, 16, 3, 8
    out, meta = {}, {"V": V, "block": block, "L": L, "heads": n_head, "C": C, "B": B, "T": T, "torch": torch.__version__}
    for bias in (True, False):
        prefix = "bias" if bias else "nobias"
        model = GPT(V, block, L, n_head, C, bias)
        idx = torch.randint(0, V, (B, T))
        targets = torch.randint(0, V, (B, T))
        params = {name: p.detach().clone() for name, p in model.named_parameters()}
        logits = model(idx)
        loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
        loss.backward()
        out[f"{prefix}.idx"], out[f"{prefix}.targets"] = idx, targets
        out[f"{prefix}.logits"], out[f"{prefix}.loss"] = logits, loss.reshape(1)
        for name, p in model.named_parameters():
            out[f"{prefix}.param.{name}"] = params[name]
            out[f"{prefix}.grad.{name}"] = p.grad

        # Ten AdamW steps as the course's Trainer takes them: weight decay on matrices only,
        # gradients clipped to norm 1, nanoGPT's betas; the same batch every step.
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=1e-2, betas=(0.9, 0.99), eps=1e-8)
        model.zero_grad(set_to_none=True)
        losses = []
        for _ in range(10):
            loss = F.cross_entropy(model(idx).view(-1, V), targets.view(-1))
            losses.append(loss.item())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        out[f"{prefix}.losses"] = torch.tensor(losses, dtype=torch.float32)
    save_safetensors(os.path.join(OUT, "gpt.safetensors"), out, meta)


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    recurrent_cells()
    gpt()
    for f in sorted(os.listdir(OUT)):
        if f in ("recurrent_cells.safetensors", "gpt.safetensors"):
            print(f"{f}: {os.path.getsize(os.path.join(OUT, f)):,} bytes")
