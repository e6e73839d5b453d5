"""The inert channel between checker and runner: length-prefixed frames of a small tagged format.

A message is a tree of plain values (None, bool, int, float, str, bytes, list, tuple, dict with
str keys, dense tensors) written in pre-order: nothing in the format can refer back to an
earlier value, so there is no sharing, no aliasing and no cycle to expand, and a tensor's
elements are exactly the bytes that follow its header (no strides, no storages). Decoding is
a single pass whose work is bounded by `Budget`: bytes, nodes, depth, tensor elements and the
request's deadline. Nothing the runner sends is code, nothing it sends can pretend to be a
tensor or a number it is not, and a few kilobytes can never cost the checker gigabytes.

Encoding takes exact types only (a subclass of dict, str or Tensor could carry behaviour) and
copies every value into bytes at once: what is sent is a snapshot, never a live object.
"""

from __future__ import annotations

import ctypes
import math
import select
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

HEADER = struct.Struct("!Q")
COUNT = struct.Struct("!I")
INT = struct.Struct("!q")
FLOAT = struct.Struct("!d")
DIM = struct.Struct("!Q")
WATCH_SECONDS = 0.05
MAX_DIMS = 8
MAX_DIM = (1 << 31) - 1
CLOCK_EVERY = 1024  # nodes decoded between two looks at the clock

# tag bytes
NONE, TRUE, FALSE, INTEGER, REAL, TEXT, BLOB = b"N", b"T", b"F", b"i", b"f", b"s", b"b"
LIST, TUPLE, DICT, TENSOR = b"l", b"t", b"d", b"x"
DTYPES = (
    "float32", "float64", "float16", "bfloat16", "complex64", "complex128",
    "int64", "int32", "int16", "int8", "uint8", "bool",
)  # fmt: skip


@dataclass(frozen=True)
class Budget:
    """What decoding one message may cost the receiver, whatever the sender wrote."""

    max_bytes: int = 64 << 20  # the frame itself
    max_nodes: int = 200_000  # values of any kind
    max_depth: int = 32  # containers inside containers
    max_elements: int = 16 << 20  # tensor elements, all tensors together


DEFAULT_BUDGET = Budget()


class ChannelClosed(Exception):
    """The other end went away (the runner exited or was killed)."""


class ChannelTimeout(Exception):
    """No complete frame arrived, or it could not be decoded, in time."""


class BadFrame(Exception):
    """A frame that is not well-formed plain data, or that exceeds the budget."""


def send(sock: socket.socket, obj: Any) -> None:
    """Send one message of plain data; raises TypeError for anything else."""
    send_frame(sock, encode(obj))


def send_frame(sock: socket.socket, data: bytes) -> None:
    """Send the body of a frame made by `encode`."""
    sock.sendall(HEADER.pack(len(data)) + data)


def encode(obj: Any, budget: Budget = DEFAULT_BUDGET) -> bytes:
    """`obj` as the body of a frame: a copy taken now, so nothing live is ever sent. Shared
    containers are written out in full, so the writer counts against `budget` as well."""
    writer = _Writer(budget)
    writer.value(obj, 0)
    data = b"".join(writer.out)
    if len(data) > budget.max_bytes:
        raise TypeError(f"a message of {len(data)} bytes is larger than the limit")
    return data


def recv(
    sock: socket.socket,
    timeout: float | None = None,
    budget: Budget = DEFAULT_BUDGET,
    watch: Callable[[], None] | None = None,
) -> Any:
    """Receive one message and decode it within `budget` and `timeout` (reading and decoding
    together). While waiting, `watch` is called every WATCH_SECONDS (it may raise)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    (size,) = HEADER.unpack(_read_exactly(sock, HEADER.size, deadline, watch))
    if size > budget.max_bytes:
        raise BadFrame(f"a message of {size} bytes is larger than the limit of {budget.max_bytes}")
    return decode(_read_exactly(sock, size, deadline, watch), budget, deadline)


def decode(data: bytes, budget: Budget = DEFAULT_BUDGET, deadline: float | None = None) -> Any:
    """The value `data` encodes, or BadFrame (ChannelTimeout past `deadline`). Whatever goes
    wrong while decoding (a shape torch refuses, a value no check foresaw) is a bad frame:
    the sender's fault, never the receiver's."""
    if len(data) > budget.max_bytes:
        raise BadFrame(f"a message of {len(data)} bytes is larger than the limit")
    reader = _Reader(memoryview(data), budget, deadline)
    try:
        value = reader.value(0)
    except (BadFrame, ChannelTimeout):
        raise
    except Exception as exc:  # RuntimeError, ValueError, OverflowError, MemoryError...
        raise BadFrame(
            f"a value that cannot be decoded ({type(exc).__name__}: {exc})"[:300]
        ) from None
    if reader.at != len(data):
        raise BadFrame("trailing bytes after the message")
    return value


# ---------------------------------------------------------------- encoding


class _Writer:
    """Exact plain types to bytes, refusing what the receiver's budget would refuse."""

    def __init__(self, budget: Budget) -> None:
        self.budget, self.out = budget, []
        self.nodes = self.elements = 0

    def value(self, obj: Any, depth: int) -> None:
        self.nodes += 1
        if self.nodes > self.budget.max_nodes or depth > self.budget.max_depth:
            raise TypeError("message too large or nested too deeply (a list inside itself?)")
        kind, out = type(obj), self.out
        if obj is None:
            out.append(NONE)
        elif kind is bool:
            out.append(TRUE if obj else FALSE)
        elif kind is int:
            if not -(1 << 63) <= obj < 1 << 63:
                raise TypeError("an int larger than 64 bits is not plain data")
            out += (INTEGER, INT.pack(obj))
        elif kind is float:
            out += (REAL, FLOAT.pack(obj))
        elif kind is str:
            self.blob(TEXT, obj.encode("utf-8", "surrogatepass"))
        elif kind is bytes:
            self.blob(BLOB, obj)
        elif kind is list or kind is tuple:
            out += (LIST if kind is list else TUPLE, COUNT.pack(len(obj)))
            for item in obj:
                self.value(item, depth + 1)
        elif kind is dict:
            self.mapping(obj, depth)
        else:
            self.tensor(obj)

    def blob(self, tag: bytes, data: bytes) -> None:
        self.out += (tag, COUNT.pack(len(data)), data)

    def mapping(self, obj: dict, depth: int) -> None:
        self.out += (DICT, COUNT.pack(len(obj)))
        for key, value in obj.items():
            if type(key) is not str:
                raise TypeError(f"message keys must be str, not {type(key).__name__}")
            self.value(key, depth + 1)
            self.value(value, depth + 1)

    def tensor(self, obj: Any) -> None:
        import torch

        if type(obj) is not torch.Tensor:
            raise TypeError(f"{type(obj).__name__} is not plain data")
        if obj.layout != torch.strided or obj.is_quantized or obj.device.type == "meta":
            raise TypeError("only dense tensors are plain data")
        name = str(obj.dtype).removeprefix("torch.")
        if name not in DTYPES or obj.dim() > MAX_DIMS:
            raise TypeError(f"a tensor of {obj.dtype}, {obj.dim()} dimensions, is not plain data")
        self.elements += obj.numel()
        if self.elements > self.budget.max_elements:  # before a view of a few bytes expands
            raise TypeError("more tensor elements than a message may hold")
        flat = obj.detach().resolve_conj().resolve_neg().to("cpu").contiguous().reshape(-1)
        data = b""
        if flat.numel():
            raw = flat.view(torch.uint8)
            data = ctypes.string_at(raw.data_ptr(), raw.numel())  # a copy, taken now
        self.out += (TENSOR, bytes((DTYPES.index(name), obj.dim())))
        self.out += [DIM.pack(d) for d in obj.shape]
        self.out.append(data)


# ---------------------------------------------------------------- decoding


class _Reader:
    """One pass over a frame's bytes, counting what it builds against the budget."""

    def __init__(self, data: memoryview, budget: Budget, deadline: float | None) -> None:
        self.data, self.budget, self.deadline = data, budget, deadline
        self.at = self.nodes = self.elements = 0

    def take(self, size: int) -> memoryview:
        if size > len(self.data) - self.at:
            raise BadFrame("the message ends too early")
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    def count(self) -> int:
        (n,) = COUNT.unpack(self.take(COUNT.size))
        if n > len(self.data) - self.at:  # every item takes at least one byte
            raise BadFrame("a container claims more items than the message holds")
        return n

    def value(self, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > self.budget.max_nodes:
            raise BadFrame(f"more than {self.budget.max_nodes} values in one message")
        if depth > self.budget.max_depth:
            raise BadFrame("message nested too deeply")
        late = self.deadline is not None and self.nodes % CLOCK_EVERY == 0
        if late and time.monotonic() > self.deadline:
            raise ChannelTimeout()
        tag = bytes(self.take(1))
        reader = _SCALARS.get(tag)
        if reader is not None:
            return reader(self)
        if tag in (LIST, TUPLE):
            items = [self.value(depth + 1) for _ in range(self.count())]
            return items if tag == LIST else tuple(items)
        if tag == DICT:
            return self.mapping(depth)
        if tag == TENSOR:
            return self.tensor()
        raise BadFrame(f"unknown tag {tag!r}")

    def mapping(self, depth: int) -> dict:
        result = {}
        for _ in range(self.count()):
            key = self.value(depth + 1)
            if type(key) is not str:
                raise BadFrame("message keys must be strings")
            if key in result:
                raise BadFrame(f"key {key!r} twice in one mapping")
            result[key] = self.value(depth + 1)
        return result

    def text(self) -> str:
        return bytes(self.take(self.count())).decode("utf-8", "replace")

    def tensor(self):
        import torch

        code, dims = bytes(self.take(2))
        if code >= len(DTYPES) or dims > MAX_DIMS:
            raise BadFrame("a tensor of an unknown kind")
        shape = [DIM.unpack(self.take(DIM.size))[0] for _ in range(dims)]
        if any(d > MAX_DIM for d in shape):
            raise BadFrame("a tensor dimension larger than any message could hold")
        dtype = getattr(torch, DTYPES[code])
        numel = math.prod(shape)
        self.elements += numel
        if self.elements > self.budget.max_elements:
            raise BadFrame(f"more than {self.budget.max_elements} tensor elements in one message")
        size = numel * torch.empty((), dtype=dtype).element_size()
        if numel == 0:
            return torch.empty(shape, dtype=dtype)
        raw = bytes(self.take(size))
        if dtype is torch.bool and raw.translate(None, b"\x00\x01"):
            raise BadFrame("a bool tensor holds bytes other than 0 and 1")
        return torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)


_SCALARS: dict[bytes, Callable[[_Reader], Any]] = {
    NONE: lambda r: None,
    TRUE: lambda r: True,
    FALSE: lambda r: False,
    INTEGER: lambda r: INT.unpack(r.take(INT.size))[0],
    REAL: lambda r: FLOAT.unpack(r.take(FLOAT.size))[0],
    TEXT: _Reader.text,
    BLOB: lambda r: bytes(r.take(r.count())),
}


def _read_exactly(sock: socket.socket, size: int, deadline: float | None, watch=None) -> bytes:
    chunks, got = [], 0
    while got < size:
        while deadline is not None or watch is not None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise ChannelTimeout()
            wait = WATCH_SECONDS if watch else left
            if left is not None:
                wait = min(wait, left)
            if select.select([sock], [], [], wait)[0]:
                break
            if watch:
                watch()
        try:
            chunk = sock.recv(min(size - got, 1 << 20))
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            raise ChannelClosed()
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
