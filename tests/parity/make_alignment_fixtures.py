#!/usr/bin/env python3
"""PyTorch references for the alignment losses of lessons 07-08.

Writes tests/parity/fixtures/alignment.safetensors, read by
tests/LlmCourse.Tests/Alignment/AlignmentParityTests.cs. Run with Debian's python3-torch:

    /usr/bin/python3 tests/parity/make_alignment_fixtures.py

The losses are written the way TRL writes them (trl/trainer/dpo_trainer.py `dpo_loss`,
trl/trainer/ppo_trainer.py `loss`), in float64 then stored as float32, with the gradients
of each loss with respect to its differentiable inputs:

- Bradley-Terry: -logsigmoid(r_chosen - r_rejected).mean(), grads wrt both rewards;
- DPO (sigmoid): -logsigmoid(beta*h)*(1-eps) - logsigmoid(-beta*h)*eps, mean; with eps = 0 and 0.1;
- IPO: (h - 1/(2*tau))**2, mean; h = (pi_c - ref_c) - (pi_r - ref_r); grads wrt pi_c and pi_r;
- PPO clipped surrogate: max(-A*ratio, -A*clamp(ratio, 1-e, 1+e)) masked mean, grad wrt logprobs;
- PPO clipped value loss: 0.5*max((v-R)^2, (clamp(v, v_old-e, v_old+e)-R)^2) masked mean, grad wrt v;
- sequence log-probs: log_softmax(logits).gather(targets) * mask, summed per row, grad wrt logits.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ beside the committed fixtures
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402

torch.set_num_threads(1)  # the same bytes every run

OUT = os.path.join(HERE, "fixtures")


def leaf(t):
    return t.detach().clone().double().requires_grad_(True)


def f32(t):
    return t.detach().float().contiguous()


def main():
    g = torch.Generator().manual_seed(2023)
    out = {}
    B = 6

    # Bradley-Terry.
    rc, rr = leaf(torch.randn(B, generator=g)), leaf(torch.randn(B, generator=g))
    loss = -F.logsigmoid(rc - rr).mean()
    loss.backward()
    out.update({"bt.chosen": f32(rc), "bt.rejected": f32(rr), "bt.loss": f32(loss),
                "bt.grad_chosen": f32(rc.grad), "bt.grad_rejected": f32(rr.grad)})

    # Sequence log-probabilities (sums of ~10 tokens: around -20 to -40).
    pc = leaf(-30 + 5 * torch.randn(B, generator=g))
    pr = leaf(-30 + 5 * torch.randn(B, generator=g))
    refc = (pc.detach() + 2 * torch.randn(B, generator=g, dtype=torch.float64))
    refr = (pr.detach() + 2 * torch.randn(B, generator=g, dtype=torch.float64))
    out.update({"pref.policy_chosen": f32(pc), "pref.policy_rejected": f32(pr),
                "pref.reference_chosen": f32(refc), "pref.reference_rejected": f32(refr)})

    def margin(a, b):
        return (a - refc) - (b - refr)

    for name, beta, eps in [("dpo", 0.1, 0.0), ("dpo_smooth", 0.5, 0.1)]:
        a, b = leaf(pc), leaf(pr)
        logits = beta * margin(a, b)
        loss = (-F.logsigmoid(logits) * (1 - eps) - F.logsigmoid(-logits) * eps).mean()
        loss.backward()
        out.update({f"{name}.loss": f32(loss), f"{name}.grad_chosen": f32(a.grad), f"{name}.grad_rejected": f32(b.grad)})

    tau = 0.1
    a, b = leaf(pc), leaf(pr)
    loss = ((margin(a, b) - 1 / (2 * tau)) ** 2).mean()
    loss.backward()
    out.update({"ipo.loss": f32(loss), "ipo.grad_chosen": f32(a.grad), "ipo.grad_rejected": f32(b.grad)})

    # PPO losses on (B, T) with a mask; ratios spread over both sides of the clip range.
    T, eps = 5, 0.2
    old = -2 + torch.randn(B, T, generator=g, dtype=torch.float64)
    logp = leaf(old + 0.3 * torch.randn(B, T, generator=g, dtype=torch.float64))
    adv = torch.randn(B, T, generator=g, dtype=torch.float64)
    mask = (torch.rand(B, T, generator=g) > 0.25).double()
    mask[:, 0] = 1
    ratio = torch.exp(logp - old)
    per_token = torch.max(-adv * ratio, -adv * torch.clamp(ratio, 1 - eps, 1 + eps))
    loss = (per_token * mask).sum() / mask.sum()
    loss.backward()
    out.update({"ppo.old_logprobs": f32(old), "ppo.logprobs": f32(logp), "ppo.advantages": f32(adv), "ppo.mask": f32(mask),
                "ppo.loss": f32(loss), "ppo.grad_logprobs": f32(logp.grad)})

    old_v = torch.randn(B, T, generator=g, dtype=torch.float64)
    v = leaf(old_v + 0.4 * torch.randn(B, T, generator=g, dtype=torch.float64))
    ret = torch.randn(B, T, generator=g, dtype=torch.float64)
    clipped = old_v + torch.clamp(v - old_v, -eps, eps)
    vf = 0.5 * (torch.max((v - ret) ** 2, (clipped - ret) ** 2) * mask).sum() / mask.sum()
    vf.backward()
    out.update({"value.old_values": f32(old_v), "value.values": f32(v), "value.returns": f32(ret),
                "value.loss": f32(vf), "value.grad_values": f32(v.grad)})

    # Sequence log-probs from logits: (B, T, V), targets with -100 on the prompt and padding.
    V = 7
    logits = leaf(torch.randn(B, T, V, generator=g))
    targets = torch.randint(0, V, (B, T), generator=g)
    seq_mask = torch.zeros(B, T)
    for b in range(B):
        start, end = b % 3, T - (b % 2)
        seq_mask[b, start:end] = 1
    targets = torch.where(seq_mask > 0, targets, torch.full_like(targets, -100))
    safe = targets.clamp(min=0)
    per_tok = F.log_softmax(logits, -1).gather(2, safe.unsqueeze(2)).squeeze(2) * seq_mask.double()
    sums = per_tok.sum(1)
    weights = torch.arange(1, B + 1, dtype=torch.float64)
    (sums * weights).sum().backward()
    out.update({"seq.logits": f32(logits), "seq.targets": targets.to(torch.int32), "seq.sums": f32(sums),
                "seq.grad_logits": f32(logits.grad)})

    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "alignment.safetensors")
    safetensors_io.write(path, out, {"format": "pt", "written_by": "tests/parity/make_alignment_fixtures.py",
                                     "torch": torch.__version__})
    print(f"wrote {path}: {len(out)} tensors")


if __name__ == "__main__":
    main()
