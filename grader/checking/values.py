"""Comparing what the learner's code computed with the reference, and describing values in
the learner's terms: tolerances by device, closeness that NaN never passes, shapes as Python
writes them."""

from __future__ import annotations

import math
from typing import Any

import torch

# (atol, rtol) for comparing with the reference, by where the learner's code ran: cuDNN and
# cuBLAS may use TF32 and other kernels, so CUDA gets room that CPU does not need; Apple's
# Metal kernels (MPS) reorder float32 sums and use fast math, so MPS gets room of its own.
TOLERANCES = {"cpu": (1e-5, 1e-4), "cuda": (1e-3, 1e-2), "mps": (2e-3, 2e-2)}
FLOAT64 = (1e-10, 1e-8)  # float64 on any device


def tolerance(device: str = "cpu", dtype: torch.dtype = torch.float32) -> tuple[float, float]:
    """(atol, rtol) for comparing what the learner's code computed on `device` in `dtype`."""
    return FLOAT64 if dtype == torch.float64 else TOLERANCES[device]


def close(actual: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float) -> bool:
    """Same shape, finite, and equal within tolerance (dtype compared separately)."""
    return (
        actual.shape == expected.shape
        and bool(torch.isfinite(actual).all())
        and torch.allclose(actual.to(expected.dtype), expected, atol=atol, rtol=rtol)
    )


def near(actual: float, expected: float, rtol: float = 1e-5) -> bool:
    """Two numbers equal within `rtol` (at least `rtol` absolute); NaN and infinity never are."""
    return math.isfinite(actual) and abs(actual - expected) <= rtol * max(1.0, abs(expected))


def max_difference(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return float((actual.to(expected.dtype) - expected).abs().max())


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def shape(value: Any) -> str:
    """A shape as Python writes a tuple: (4, 1), (7,), ()."""
    if isinstance(value, torch.Tensor):
        return dims(value.shape)
    return str(value)


def dims(sizes) -> str:
    """(16, 5) or (16,), as a shape is written."""
    return f"({', '.join(str(int(n)) for n in sizes)}{',' if len(sizes) == 1 else ''})"


def all_close(got: list, want: list, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """Two lists (of lists ...) of tensors, equal in length and each pair `close`."""
    if type(got) is torch.Tensor or type(want) is torch.Tensor:
        return type(got) is torch.Tensor and close(got, want, atol, rtol)
    return (
        type(got) is list
        and len(got) == len(want)
        and all(all_close(a, b, atol, rtol) for a, b in zip(got, want, strict=True))
    )


def window_start(window: Any, series: torch.Tensor, dim: int = 1) -> int | None:
    """Where `window` lies in `series` along `dim`, every other axis equal (None: nowhere):
    which part of a sequence a learner's code gave a model."""
    if type(window) is not torch.Tensor or window.dim() != series.dim():
        return None
    if any(window.shape[d] != series.shape[d] for d in range(series.dim()) if d != dim):
        return None
    size = window.shape[dim]
    starts = range(series.shape[dim] - size + 1)
    return next((s for s in starts if torch.equal(series.narrow(dim, s, size), window)), None)


def spans(starts: list, lengths: list, shown: int = 8) -> str:
    """Ranges of steps as Python slices them, '0:5, 5:10' ('?' for a start not found)."""
    said = [f"{s}:{s + n}" if s is not None else "?" for s, n in zip(starts, lengths, strict=True)]
    return ", ".join(said[:shown]) + (", ..." if len(said) > shown else "") or "none"


def chunking(
    windows: list, series: torch.Tensor, size: int, dim: int = 1
) -> tuple[str, str] | None:
    """How `windows`, what a function was given in order, differ from `series` cut along `dim`
    into consecutive chunks of `size` (the last may be shorter): None when they do not, else
    the spans given and the spans wanted, as slices (see `spans`)."""
    total = series.shape[dim]
    want = list(range(0, total, size))
    sizes = [min(size, total - s) for s in want]
    starts = [window_start(w, series, dim) for w in windows]
    lengths = [w.shape[dim] if type(w) is torch.Tensor and w.dim() > dim else 0 for w in windows]
    if starts == want and lengths == sizes:
        return None
    return spans(starts, lengths), spans(want, sizes)
