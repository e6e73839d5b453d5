"""Generic explainers: relations between a learner's wrong tensor and the reference's that a
check tries before saying "none of the usual mistakes". Each states a relation that holds
within the comparison's tolerance (never a guess at the code); one that does not hold is
never claimed. `explain` returns the first that holds, or "".
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch

from grader.checking.values import close, dims

MAX_PERMUTED_DIMS = 4  # axes permuted are tried up to this many dimensions (4! orders)
SHOWN_ROWS = 8  # rows named when only some match


@dataclass(frozen=True)
class Comparison:
    """A failed comparison: what the learner's code gave and the reference's, the tolerance,
    the time axis, and other values of the reference's computation (name -> tensor)."""

    actual: torch.Tensor
    expected: torch.Tensor
    atol: float
    rtol: float
    what: str = "Your value"
    time_dim: int | None = 1  # None: the value has no time axis
    others: Mapping[str, torch.Tensor] = field(default_factory=dict)

    def same(self, actual: torch.Tensor, expected: torch.Tensor) -> bool:
        return close(actual, expected, self.atol, self.rtol)


def explain(comparison: Comparison) -> str:
    """The first relation between the learner's and the reference's tensor that holds."""
    for explainer in EXPLAINERS:
        if found := explainer(comparison):
            return found
    return ""


def explain_pair(
    actual: tuple[torch.Tensor, torch.Tensor],
    expected: tuple[torch.Tensor, torch.Tensor],
    atol: float,
    rtol: float,
    what: str = "Your code",
) -> str:
    """A returned pair whose two elements are the reference's, in the other order."""
    a, b = actual
    x, y = expected
    swapped = close(a, y, atol, rtol) and close(b, x, atol, rtol)
    return PAIR_SWAPPED.format(what=what) if swapped and not close(a, x, atol, rtol) else ""


def other_value(c: Comparison) -> str:
    """Equal to another value the reference's computation reports (the cell state for h)."""
    for name, value in c.others.items():
        if c.same(c.actual, value):
            return OTHER_VALUE.format(what=c.what, name=name)
    return ""


def scaled(c: Comparison) -> str:
    """Equal to the reference's times a constant other than 1 (the least-squares one)."""
    if c.actual.shape != c.expected.shape or not torch.isfinite(c.actual).all():
        return ""
    e, a = c.expected.double().reshape(-1), c.actual.double().reshape(-1)
    energy = float(e @ e)
    if energy == 0.0:
        return ""
    factor = float(a @ e) / energy
    if abs(factor - 1.0) <= c.rtol or not c.same(c.actual, c.expected * factor):
        return ""
    if abs(factor) <= c.atol:
        return ALL_ZERO.format(what=c.what)
    return SCALED.format(what=c.what, factor=f"{factor:.4g}")


def shifted(c: Comparison) -> str:
    """Equal to the reference's one step later or earlier along time, where both exist."""
    d = c.time_dim
    size = c.actual.shape[d] if d is not None and c.actual.dim() > d else 0
    if c.actual.shape != c.expected.shape or size < 3:
        return ""
    head, tail = c.actual.narrow(d, 0, size - 1), c.actual.narrow(d, 1, size - 1)
    if c.same(tail, c.expected.narrow(d, 0, size - 1)):
        return SHIFTED.format(what=c.what, dim=d, side="t - 1", later="later")
    if c.same(head, c.expected.narrow(d, 1, size - 1)):
        return SHIFTED.format(what=c.what, dim=d, side="t + 1", later="earlier")
    return ""


def reversed_in_time(c: Comparison) -> str:
    """Equal to the reference's with the time axis reversed."""
    if c.time_dim is None or c.actual.dim() <= c.time_dim or c.actual.shape[c.time_dim] < 2:
        return ""
    if c.same(c.actual, c.expected.flip(c.time_dim)):
        return REVERSED.format(what=c.what, dim=c.time_dim)
    return ""


def permuted(c: Comparison) -> str:
    """Equal to the reference's with its axes in another order (a transpose)."""
    n = c.expected.dim()
    if not 2 <= n <= MAX_PERMUTED_DIMS:
        return ""
    for order in itertools.permutations(range(n)):
        if order == tuple(range(n)):
            continue
        moved = c.expected.permute(order)
        if moved.shape == c.actual.shape and c.same(c.actual, moved):
            return PERMUTED.format(
                what=c.what, got=dims(c.actual.shape), want=dims(c.expected.shape), order=order
            )
    return ""


def some_rows(c: Comparison) -> str:
    """Equal to the reference's on some rows (dimension 0) and not on the others."""
    if c.actual.shape != c.expected.shape or c.actual.dim() == 0 or c.actual.shape[0] < 2:
        return ""
    rows = [i for i in range(c.actual.shape[0]) if c.same(c.actual[i], c.expected[i])]
    if not rows or len(rows) == c.actual.shape[0]:
        return ""
    shown = ", ".join(map(str, rows[:SHOWN_ROWS])) + (", ..." if len(rows) > SHOWN_ROWS else "")
    return SOME_ROWS.format(what=c.what, rows=shown, n=len(rows), total=c.actual.shape[0])


EXPLAINERS: tuple[Callable[[Comparison], str], ...] = (
    other_value,
    scaled,
    shifted,
    reversed_in_time,
    permuted,
    some_rows,
)

# --------------------------------------------------------------------- messages

PAIR_SWAPPED = (
    "{what} returned the reference's two values in the other order: its first is the "
    "reference's second and its second the reference's first."
)
OTHER_VALUE = "{what} equals {name} of the reference's computation, not the value asked for."
SCALED = "{what} equals the reference's times {factor}, everywhere (within the tolerance)."
ALL_ZERO = "{what} is zero everywhere, where the reference's is not."
SHIFTED = (
    "{what} at each step t equals the reference's at step {side} along dimension {dim}: "
    "the same values, one step {later}."
)
REVERSED = "{what} equals the reference's reversed along dimension {dim} (time runs backwards)."
PERMUTED = (
    "{what}, of shape {got}, holds the reference's values (shape {want}) with its axes in the "
    "order {order}: the right numbers, transposed."
)
SOME_ROWS = (
    "{what} matches the reference on {n} of {total} rows of dimension 0 (rows {rows}) and "
    "differs on the others."
)
