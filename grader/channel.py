"""The inert channel between checker and runner: length-prefixed frames of `torch.save` bytes.

The checker decodes with `torch.load(weights_only=True)`, which builds only tensors and plain
containers, then re-validates every value with `plain()`: nothing the runner sends is code,
and nothing it sends can pretend to be a tensor or a number it is not.
"""

from __future__ import annotations

import io
import select
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

HEADER = struct.Struct("!Q")
WATCH_SECONDS = 0.05
MAX_FRAME = 256 * 1024 * 1024  # a reply larger than this is hostile or broken
PLAIN_SCALARS = (bool, int, float, str, bytes, type(None))


class ChannelClosed(Exception):
    """The other end went away (the runner exited or was killed)."""


class ChannelTimeout(Exception):
    """No complete frame arrived in time."""


class BadFrame(Exception):
    """A frame that is not well-formed plain data."""


def send(sock: socket.socket, obj: Any) -> None:
    """Send one message: plain data (dicts, lists, str, numbers, tensors)."""
    import torch  # here, not at the top: the checker starts the zygote before paying for torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    data = buffer.getvalue()
    sock.sendall(HEADER.pack(len(data)) + data)


def recv(
    sock: socket.socket,
    timeout: float | None = None,
    max_bytes: int = MAX_FRAME,
    watch: Callable[[], None] | None = None,
) -> Any:
    """Receive one message, decoded inertly and validated as plain data. While waiting,
    `watch` is called every WATCH_SECONDS (it may raise to give up)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    (size,) = HEADER.unpack(_read_exactly(sock, HEADER.size, deadline, watch))
    if size > max_bytes:
        raise BadFrame(f"a message of {size} bytes is larger than the limit of {max_bytes}")
    data = _read_exactly(sock, size, deadline, watch)
    import torch

    try:
        obj = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as exc:  # anything torch.load refuses is not plain data
        raise BadFrame(f"undecodable message: {type(exc).__name__}: {exc}") from None
    return plain(obj)


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


def plain(obj: Any, depth: int = 0) -> Any:
    """Return `obj` rebuilt from exact plain types, or raise BadFrame.

    Exact `type(...) is` checks: a subclass of dict, str or Tensor could carry behaviour.
    """
    import torch

    if depth > 20:
        raise BadFrame("message nested too deeply")
    kind = type(obj)
    if kind in PLAIN_SCALARS:
        return obj
    if kind is torch.Tensor:
        if obj.is_sparse or obj.layout != torch.strided:
            raise BadFrame("only dense tensors are accepted")
        return obj.detach().clone()
    if kind in (list, tuple):
        return kind(plain(item, depth + 1) for item in obj)
    if kind is dict:
        if not all(type(key) is str for key in obj):
            raise BadFrame("message keys must be strings")
        return {key: plain(value, depth + 1) for key, value in obj.items()}
    raise BadFrame(f"unexpected {kind.__name__} in a message")
