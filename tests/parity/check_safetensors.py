#!/usr/bin/env python3
"""Reads a safetensors file written by the engine's Safetensors.Save with a reader written from the
format's specification (safetensors_io.read), and checks the content the C# test
SafetensorsParityTests.SavedFileIsReadableByASpecFollowingReader wrote:

  f32          F32 [2,3,4]  f32[i] = i * 0.5 - 1
  i32          I32 [3,2]    i32[i] = i * 7 - 20
  bf16, f16    BF16/F16 [64], the engine's conversion of the F32 tensor "source" (values that need
               rounding): must equal PyTorch's conversion bit for bit (round to nearest, ties to even)
  scalar       F32 [] holding 3.25
  metadata     {"course": "llm", "text": "ünïcödé €"}
and the API's promise that keys are written sorted. Prints what it checked; exits 1 on the first failure,
3 when PyTorch is missing.
Usage: /usr/bin/python3 tests/parity/check_safetensors.py FILE
"""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch  # noqa: E402
except ImportError:
    print("PyTorch is not installed (Debian: apt-get install python3-torch)")
    sys.exit(3)  # the C# test skips on 3

import safetensors_io  # noqa: E402


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def main(path):
    try:
        tensors, metadata, order = safetensors_io.read(path)
    except safetensors_io.FormatError as e:
        fail(str(e))
    expected_names = {"f32", "i32", "source", "bf16", "f16", "scalar"}
    if set(tensors) != expected_names:
        fail(f"tensors {sorted(tensors)}, expected {sorted(expected_names)}")
    if order != sorted(order):
        fail(f"keys are not sorted in the header: {order}")

    def check(name, dtype, shape, expected):
        t = tensors[name]
        if t.dtype != dtype or list(t.shape) != shape:
            fail(f"{name}: {t.dtype} {list(t.shape)}, expected {dtype} {shape}")
        if not torch.equal(t, expected):
            bad = (t != expected).nonzero()[0].tolist()
            fail(f"{name}: element {bad} is {t[tuple(bad)].item()}, expected {expected[tuple(bad)].item()}")
        print(f"ok {name} {safetensors_io.NAME_OF[dtype]} {shape}")

    check("f32", torch.float32, [2, 3, 4], (torch.arange(24, dtype=torch.float32) * 0.5 - 1).reshape(2, 3, 4))
    check("i32", torch.int32, [3, 2], (torch.arange(6, dtype=torch.int32) * 7 - 20).reshape(3, 2))
    source = tensors["source"]
    if source.dtype != torch.float32 or list(source.shape) != [64]:
        fail(f"source: {source.dtype} {list(source.shape)}, expected float32 [64]")
    for name, dtype in (("bf16", torch.bfloat16), ("f16", torch.float16)):
        ours, theirs = tensors[name], source.to(dtype)
        if ours.dtype != dtype or list(ours.shape) != [64]:
            fail(f"{name}: {ours.dtype} {list(ours.shape)}, expected {dtype} [64]")
        same = ours.view(torch.int16) == theirs.view(torch.int16)
        if not bool(same.all()):
            i = int((~same).nonzero()[0])
            fail(f"{name}[{i}]: source {source[i].item()!r} became {ours[i].item()!r}, PyTorch rounds to {theirs[i].item()!r}")
        print(f"ok {name}: 64 values rounded as PyTorch rounds them")
    check("scalar", torch.float32, [], torch.tensor(3.25))
    expected_meta = {"course": "llm", "text": "ünïcödé €"}
    if metadata != expected_meta:
        fail(f"metadata {metadata!r}, expected {expected_meta!r}")
    print("ok metadata")
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
    if n % 8:
        print(f"note: header length {n} is not a multiple of 8 (allowed; the reference writer pads to 8)")
    print("ok")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: check_safetensors.py FILE")
    main(sys.argv[1])
