"""Comparing what the learner's code computed with the reference, and describing values in
the learner's terms: tolerances by device, closeness that NaN never passes, shapes as Python
writes them."""

from __future__ import annotations

import math
from typing import Any

import torch

# (atol, rtol) for comparing with the reference, by where the learner's code ran: cuDNN and
# cuBLAS may use TF32 and other kernels, so CUDA gets room that CPU does not need.
TOLERANCES = {"cpu": (1e-5, 1e-4), "cuda": (1e-3, 1e-2)}
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
