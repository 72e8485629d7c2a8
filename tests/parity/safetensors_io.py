"""A safetensors writer and a strict reader, written from the format's specification.

Debian ships no Python `safetensors` package, so both sides are written here by hand. The format:
an 8-byte little-endian unsigned header length N, then N bytes of UTF-8 JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the byte
buffer; offsets are relative to the start of the buffer, tensors are row-major little-endian and
together cover the buffer exactly, without gaps or overlaps. The header may be padded with spaces
(the reference implementation pads it to a multiple of 8 so the buffer is aligned).
"""
import json
import struct

import numpy as np
import torch

# dtype name -> (torch dtype, bytes per element)
DTYPES = {
    "F64": (torch.float64, 8),
    "F32": (torch.float32, 4),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "I64": (torch.int64, 8),
    "I32": (torch.int32, 4),
    "I16": (torch.int16, 2),
    "I8": (torch.int8, 1),
    "U8": (torch.uint8, 1),
    "BOOL": (torch.bool, 1),
}
NAME_OF = {dtype: name for name, (dtype, _) in DTYPES.items()}


def tensor_bytes(t):
    """Row-major little-endian bytes of a tensor (bf16 through its 16-bit pattern: numpy has no bf16)."""
    t = t.detach().contiguous().cpu()
    if t.dtype in (torch.bfloat16, torch.float16):
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write(path, tensors, metadata=None):
    """Writes `tensors` (name -> torch tensor) with keys sorted, so the same input gives the same bytes."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        data = tensor_bytes(t)
        header[name] = {"dtype": NAME_OF[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


class FormatError(Exception):
    pass


def read(path):
    """Reads a file, checking every rule of the format; returns (tensors, metadata, header keys in file order)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise FormatError(f"{path}: {len(raw)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise FormatError(f"{path}: header length {n} runs past the end of the file ({len(raw)} bytes)")
    try:
        text = raw[8:8 + n].decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"{path}: header is not UTF-8: {e}")
    if not text.startswith("{"):
        raise FormatError(f"{path}: header does not start with '{{': {text[:20]!r}")
    pairs = json.loads(text, object_pairs_hook=lambda kv: kv)
    names = [k for k, _ in pairs]
    if len(set(names)) != len(names):
        raise FormatError(f"{path}: duplicate keys in the header")
    header = dict(pairs)
    metadata = header.pop("__metadata__", None)
    if metadata is not None:
        metadata = dict(metadata)
        for k, v in metadata.items():
            if not isinstance(v, str):
                raise FormatError(f"{path}: metadata value of {k!r} is not a string: {v!r}")
    buffer = raw[8 + n:]
    spans, tensors = [], {}
    for name, info in header.items():
        info = dict(info)
        if set(info) != {"dtype", "shape", "data_offsets"}:
            raise FormatError(f"{path}: {name}: header entry has keys {sorted(info)}")
        dtype, shape, (begin, end) = info["dtype"], list(info["shape"]), info["data_offsets"]
        if dtype not in DTYPES:
            raise FormatError(f"{path}: {name}: unknown dtype {dtype}")
        if any((not isinstance(d, int)) or d < 0 for d in shape):
            raise FormatError(f"{path}: {name}: bad shape {shape}")
        torch_dtype, size = DTYPES[dtype]
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * size or begin < 0 or end > len(buffer):
            raise FormatError(f"{path}: {name}: offsets [{begin},{end}] do not hold {shape} of {dtype}"
                              f" within a buffer of {len(buffer)} bytes")
        spans.append((begin, end, name))
        data = bytearray(buffer[begin:end])
        flat = torch.frombuffer(data, dtype=torch_dtype) if count else torch.empty(0, dtype=torch_dtype)
        tensors[name] = flat.reshape(shape).clone()
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin != position:
            raise FormatError(f"{path}: {name}: starts at {begin}, expected {position} (gap or overlap)")
        position = end
    if position != len(buffer):
        raise FormatError(f"{path}: tensors end at {position} but the buffer has {len(buffer)} bytes")
    return tensors, metadata or {}, [k for k in names if k != "__metadata__"]
