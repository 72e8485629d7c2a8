#!/usr/bin/env python3
"""Loads a checkpoint written by Gpt.ExportNanoGpt into nanoGPT's model and checks its outputs.

The model below is nanoGPT's model.py (Karpathy, github.com/karpathy/nanoGPT) cut to what inference
needs: the same module tree and parameter names, so `load_state_dict(..., strict=True)` proves the
names and shapes, and the same forward pass (including nanoGPT's habit of returning only the last
position's logits when no targets are given). One change for PyTorch 1.13 (Debian's), which has no
scaled_dot_product_attention: nanoGPT's "slow attention" path with its causal mask registered as a
non-persistent buffer, so it is not expected in the state dict (nanoGPT's own checkpoints made with
PyTorch 2 do not have it either).

Usage: /usr/bin/python3 tests/parity/check_nanogpt_export.py CHECKPOINT EXPECTED
  CHECKPOINT  the .safetensors file from Gpt.ExportNanoGpt
  EXPECTED    a .safetensors file with "tokens" (I32, B×T), "targets" (I32, B×T), "logits" (F32, B×T×V)
              and "loss" (F32 scalar), computed by the C# model on the same weights
Prints the largest differences; exits 0 when they are within 1e-4, 1 when not, 3 without PyTorch.
"""
import math
import os
import sys
from dataclasses import dataclass

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch  # noqa: E402
    import torch.nn as nn  # noqa: E402
    from torch.nn import functional as F  # noqa: E402
except ImportError:
    print("PyTorch is not installed (Debian: apt-get install python3-torch)")
    sys.exit(3)  # the C# test skips on 3

import safetensors_io  # noqa: E402

TOLERANCE = 1e-4


@dataclass
class GPTConfig:
    block_size: int = 1024
    vocab_size: int = 50304
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (PyTorch's nn.LayerNorm cannot drop only the bias)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        mask = torch.tril(torch.ones(config.block_size, config.block_size)).view(1, 1, config.block_size, config.block_size)
        self.register_buffer("bias", mask, persistent=False)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = att @ v  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as nanoGPT

    def forward(self, idx, targets=None):
        b, t = idx.size()
        assert t <= self.config.block_size, f"Cannot forward sequence of length {t}, block size is only {self.config.block_size}"
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        else:
            logits = self.lm_head(x[:, [-1], :])  # inference: only the last position
            loss = None
        return logits, loss


def config_from(metadata):
    """GPTConfig from the checkpoint's metadata (strings, as safetensors stores them)."""
    ints = {k: int(metadata[k]) for k in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd")}
    return GPTConfig(**ints, dropout=float(metadata["dropout"]), bias=metadata["bias"] == "True")


def main(checkpoint, expected_path):
    state, metadata, _ = safetensors_io.read(checkpoint)
    config = config_from(metadata)
    model = GPT(config)
    model.load_state_dict(state, strict=True)  # every name and shape must match nanoGPT's
    model.eval()
    if not torch.equal(model.lm_head.weight, model.transformer.wte.weight):
        print("lm_head.weight and transformer.wte.weight differ after loading: not tied")
        return 1
    expected, _, _ = safetensors_io.read(expected_path)
    tokens, targets = expected["tokens"].long(), expected["targets"].long()
    with torch.no_grad():
        logits, loss = model(tokens, targets)
        last, _ = model(tokens)
    logit_diff = (logits - expected["logits"]).abs().max().item()
    last_diff = (last[:, 0, :] - expected["logits"][:, -1, :]).abs().max().item()
    loss_diff = abs(loss.item() - expected["loss"].item())
    print(f"{config}: {sum(p.numel() for p in model.parameters()):,} parameters, loaded strictly")
    print(f"logits {tuple(logits.shape)}: max |diff| {logit_diff:.3g}; last position: {last_diff:.3g}; "
          f"loss {loss.item():.6f} vs {expected['loss'].item():.6f}: |diff| {loss_diff:.3g} (tolerance {TOLERANCE})")
    return 0 if max(logit_diff, last_diff, loss_diff) <= TOLERANCE else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
