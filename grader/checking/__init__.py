"""What check modules use: points and dependency markers, `fail()` with a learner-facing
message, and helpers to describe what the learner's code did."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
import torch


def points(n: float) -> pytest.MarkDecorator:
    """@points(2): what the check is worth (split across the devices it runs on)."""
    return pytest.mark.points(n)


def depends(*names: str) -> pytest.MarkDecorator:
    """@depends("test_structure"): the check is blocked unless those checks passed."""
    return pytest.mark.depends(*names)


class CheckFailure(Exception):
    """A verdict of "wrong", with the message the learner reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def fail(message: str) -> NoReturn:
    raise CheckFailure(message.strip())


TODO_LEFT = "Your {what} still raises NotImplementedError: a TODO is left to do."
MISSING_NAMES = "{file} defines no {missing} (it defines: {names})."


def require_names(learner, *required: str) -> None:
    """Import the learner's file; fail unless it defines every name in `required`."""
    names = learner.load()["names"]
    if missing := [n for n in required if n not in names]:
        defined = ", ".join(names) or "nothing"
        fail(
            MISSING_NAMES.format(
                file=learner.path.name, missing=" or ".join(missing), names=defined
            )
        )


def todo_left(error: dict) -> bool:
    """The learner's own `raise NotImplementedError` (a starter's TODO), not one from torch
    (which raises it too, e.g. for a loss given class indices where it wants scores)."""
    return error.get("type") == "NotImplementedError" and "raise NotImplementedError" in error.get(
        "code", ""
    )


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def raised(error: dict, what: str) -> str:
    """'Your forward raised RuntimeError at line 19 (`out, _ = self.lstm(x, (h0, c0))`): …'"""
    where = f" at line {error['line']}" if error.get("line") else ""
    code = f" (`{error['code']}`)" if error.get("code") else ""
    message = error.get("message") or "(no message)"
    return f"{what} raised {error.get('type', 'an exception')}{where}{code}:\n    {message}"


def shape(value: Any) -> str:
    if type(value) is torch.Tensor:
        return (
            f"({', '.join(str(d) for d in value.shape)})"
            if value.dim() != 1
            else f"({value.shape[0]},)"
        )
    return str(value)


def not_a_tensor(value: Any, what: str) -> str | None:
    """A message when `value` (from the runner) is not a tensor, else None."""
    if type(value) is torch.Tensor:
        return None
    if type(value) is dict and "not_a_tensor" in value:
        return (
            f"{what} returned a {value['not_a_tensor']} ({value.get('repr', '?')}), not a tensor."
        )
    return f"{what} returned {type(value).__name__}, not a tensor."


def close(actual: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float) -> bool:
    """Same shape, finite, and equal within tolerance (dtype compared separately)."""
    return (
        actual.shape == expected.shape
        and bool(torch.isfinite(actual).all())
        and torch.allclose(actual.to(expected.dtype), expected, atol=atol, rtol=rtol)
    )


def max_difference(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return float((actual.to(expected.dtype) - expected).abs().max())
