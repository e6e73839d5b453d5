"""Comparing what the learner's code returned with the reference's, and failing with the most
specific message: a value that is not a tensor of the right shape and dtype, the first
parameter or gradient that is missing or differs, numbers per step, and values at each step
of a computation, with the usual mistakes replayed and the generic explainers tried before a
check says it does not know. The check supplies the messages; this module supplies the order
in which they are tried, the same for every exercise."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from grader.checking import fail, tensor
from grader.checking.diagnosis import Mistake, Same, diagnose, matching
from grader.checking.explainers import Comparison, explain, explain_pair
from grader.checking.values import all_close, close, dims, max_difference, near, shape

NUMBERS_TOLERANCE = (1e-5, 1e-4)  # (atol, rtol) of the explainers for numbers `near` compares


@dataclass(frozen=True)
class Difference:
    """The first of a set of named values that is missing (`diff` is None) or differs."""

    name: str
    diff: float | None

    @property
    def missing(self) -> bool:
        return self.diff is None


def also(found: str) -> str:
    """A further finding on a line of its own after a message, or nothing."""
    return f"\n{found}" if found else ""


def conforming(
    value: Any, expected: torch.Tensor, what: str, wrong_shape: str, wrong_dtype: str, **facts: Any
) -> torch.Tensor:
    """`value` as a tensor of `expected`'s shape and dtype; otherwise fail with `wrong_shape`
    (given got and want, as shapes are written) or `wrong_dtype` (got and want, dtypes), both
    formatted with `facts` too. `what` names the value if it is no tensor at all."""
    value = tensor(value, what)
    if value.shape != expected.shape:
        fail(wrong_shape.format(got=shape(value), want=shape(expected), **facts))
    if value.dtype != expected.dtype:
        fail(wrong_dtype.format(got=value.dtype, want=expected.dtype, **facts))
    return value


def conforming_series(
    got: Mapping[str, list],
    want: Mapping[str, list],
    what: str,
    wrong_shape: str,
    wrong_dtype: str,
    **facts: Any,
) -> dict[str, list[torch.Tensor]]:
    """Each named value of `got` at each step (name -> one value per step) `conforming` to the
    reference's in `want`; `what` and the messages are also given `which`, the name."""
    return {
        which: [
            conforming(
                v, e, what.format(which=which), wrong_shape, wrong_dtype, which=which, **facts
            )
            for v, e in zip(got[which], expected, strict=True)
        ]
        for which, expected in want.items()
    }


def expect_parameters(
    found: Mapping[str, Sequence[int]],
    wanted: Mapping[str, Sequence[int]],
    missing: str,
    wrong_shape: str,
    extra: str,
    **facts: Any,
) -> None:
    """Fail unless a module's parameters (`found`, name -> shape) are exactly `wanted`: with
    `missing` (given name and names, those it has), `wrong_shape` (name, got, want) or `extra`
    (names), each formatted with `facts` too."""
    for name, want in wanted.items():
        if name not in found:
            fail(missing.format(name=name, names=", ".join(found) or "none", **facts))
        if tuple(found[name]) != tuple(want):
            fail(wrong_shape.format(name=name, got=dims(found[name]), want=dims(want), **facts))
    if others := [name for name in found if name not in wanted]:
        fail(extra.format(names=", ".join(others), **facts))


def first_difference(
    got: Mapping[str, Any], want: Mapping[str, torch.Tensor], atol: float, rtol: float
) -> Difference | None:
    """The first name of `want` whose value in `got` is missing (not a tensor) or not close
    (`diff`, the largest difference; NaN for another shape); None when all are close."""
    for name, expected in want.items():
        value = got.get(name)
        if type(value) is not torch.Tensor:
            return Difference(name, None)
        if not close(value, expected, atol, rtol):
            diff = max_difference(value, expected) if value.shape == expected.shape else math.nan
            return Difference(name, diff)
    return None


def expect_same(
    actual: Any,
    expected: Any,
    same: Same,
    mistakes: Iterable[Mistake],
    otherwise: str,
    seen: Callable[[], str] = lambda: "",
) -> None:
    """Fail unless the learner's `actual` result is `same` as the reference's: with what the
    probe saw that explains it (`seen`, a message or ""), else the message of the usual mistake
    whose replay gives `actual`, else `otherwise`."""
    if not same(actual, expected):
        fail(seen() or diagnose(actual, mistakes, same, otherwise, expected))


def expect_numbers(got: list[float], want: list[float], what: str, count: str, wrong: str) -> None:
    """Fail unless `got` holds as many numbers as `want` (else `count`, given n and want) and
    each is `near` its own (else `wrong`, then the relation an explainer finds, along the list
    as along time: `what` names the list in it)."""
    if len(got) != len(want):
        fail(count.format(n=len(got), want=len(want)))
    if not all(map(near, got, want)):
        c = Comparison(torch.tensor(got), torch.tensor(want), *NUMBERS_TOLERANCE, what, time_dim=0)
        fail(f"{wrong} {explain(c)}".strip())


def same_series(atol: float, rtol: float):
    """The comparison of two series (name -> one tensor per step) within a tolerance."""

    def same(a: Mapping[str, list], b: Mapping[str, list]) -> bool:
        return all(all_close(a[name], b[name], atol, rtol) for name in b)

    return same


def expect_series(
    got: Mapping[str, list],
    want: Mapping[str, list],
    atol: float,
    rtol: float,
    mistakes: Iterable[Mistake],
    wrong: str,
    returned: str = "Your code",
    **facts: Any,
) -> None:
    """Fail unless each named value at each step (`got`, name -> list of tensors of the right
    shape and dtype: see `conforming`) is close to the reference's (`want`). When one is not:
    the message of the usual mistake whose replay gives all of `got` (a replay returns a series
    too), else `wrong` (given which, the name; shape; diff) and the relation the explainers find
    at the first step that differs: a pair of values swapped (`returned` names what returned
    them), or one equal to another value of that step, scaled, and so on."""
    for which, expected in want.items():
        if all_close(got[which], expected, atol, rtol):
            continue
        if found := matching(got, mistakes, same_series(atol, rtol), want):
            fail(found.message)
        pairs = list(zip(got[which], expected, strict=True))
        diff = max(max_difference(a, b) for a, b in pairs)
        said = wrong.format(which=which, shape=shape(got[which][0]), diff=diff, **facts)
        fail(said + also(_related(which, got, want, atol, rtol, returned)))


def _related(
    which: str, got: Mapping[str, list], want: Mapping[str, list], atol, rtol, returned: str
) -> str:
    """What the explainers find at the first step where `which` differs."""
    for t, (a, b) in enumerate(zip(got[which], want[which], strict=True)):
        if close(a, b, atol, rtol):
            continue
        if len(want) == 2:
            pair = [values[t] for values in got.values()], [values[t] for values in want.values()]
            if swapped := explain_pair(*pair, atol, rtol, returned):
                return swapped
        others = {name: values[t] for name, values in want.items() if name != which}
        return explain(Comparison(a, b, atol, rtol, f"Your {which}", time_dim=None, others=others))
    return ""
