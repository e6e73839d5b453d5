"""What check modules use: points and dependency markers, `call()` (the one way to run a
probe on the learner's code) and `fail()` with a learner-facing message. Comparing and
describing values is in `grader.checking.values`."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, Protocol

import pytest
import torch

from grader.checking import errors, messages

SHOWN_NAMES = 12  # of the names a learner's file defines, when the one wanted is not there
MESSAGE_CAP = 600  # characters of a check's message; -v shows the details
# An explanation of an error, from the error and the probe's reply: "" when it has none.
Explain = Callable[[dict, dict], str]


class Learner(Protocol):
    """What a check needs of the learner's code under test (grader.learner.Learner is one):
    declared here so that checking, which learner imports, never imports learner back."""

    path: Path

    def load(self) -> dict: ...

    def probe(self, name: str, what: str, **args: Any) -> dict: ...


def points(n: float) -> pytest.MarkDecorator:
    """@points(2): what the check is worth (split across the devices it runs on)."""
    return pytest.mark.points(n)


def depends(*names: str) -> pytest.MarkDecorator:
    """@depends("test_structure"): the check is blocked unless those checks passed."""
    return pytest.mark.depends(*names)


class CheckFailure(Exception):
    """A verdict of "wrong", with the message the learner reads and details for -v."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


def fail(message: str, detail: str = "") -> NoReturn:
    """End the check as failed with `message` (and `detail`, shown with -v). A message longer
    than MESSAGE_CAP is cut at a sentence, and the whole of it goes to the details."""
    message, detail = message.strip(), detail.strip()
    if len(message) > MESSAGE_CAP:
        message, detail = _shortened(message), f"{message}\n\n{detail}".strip()
    raise CheckFailure(message, detail)


def _shortened(message: str) -> str:
    room = message[: MESSAGE_CAP - len(MORE)]
    end = max(room.rfind(". "), room.rfind(".\n"), room.rfind(": "))
    return (room[: end + 1] if end > 0 else room.rsplit(" ", 1)[0]) + MORE


def call(
    learner: Learner,
    probe: str,
    what: str,
    *,
    explain: Explain | None = None,
    expected: str = "",
    allow_error: bool = False,
    **args: Any,
) -> dict:
    """Run `probe` on the learner's code and return its reply, after failing with one message
    when the code left a TODO, raised (unless `allow_error`: then the reply holds the
    "error"), or returned the wrong kind of value (`expected` says what it should be).
    `what` names the code in messages ("Your forward"); `explain` gives the check's own
    explanation of an error, where it has one."""
    reply = learner.probe(probe, what, **args)
    if error := reply.get("error"):
        if todo_left(error):
            fail(TODO_LEFT.format(function=function_of(error, learner, what)))
        if not allow_error:
            hint = explain(error, reply) if explain else ""
            fail(error_message(error, what, hint, str(learner.path)), error_detail(error))
    if "wrong_type" in reply:
        call_name = reply.get("call", what)
        fail(WRONG_TYPE.format(call=call_name, got=reply["wrong_type"], expected=expected))
    return reply


def error_message(error: dict, what: str, hint: str = "", filename: str = "") -> str:
    """The learner's exception: where, its first line, and what it means there (`hint`, or
    the plain meaning of that exception; `filename`, the learner's, tells whether it came
    from inside a library call)."""
    message = errors.first_line(error.get("message", ""))
    return f"{raised(error, what, message)}\n{hint or errors.explain(error, filename)}"


def error_detail(error: dict) -> str:
    """The whole exception, for -v."""
    return f"{error.get('message', '')}\n\n{error.get('traceback', '')}"


def tensor(value: Any, what: str) -> torch.Tensor:
    """`value` from the runner, if it is a tensor; otherwise fail saying what it was."""
    if type(value) is torch.Tensor:
        return value
    got = value["wrong_type"] if type(value) is dict and "wrong_type" in value else "no tensor"
    message = NOT_PLAIN if type(got) is str and "tensor" in got else NOT_A_TENSOR
    fail(message.format(what=what, got=got))


def floats(value: Any, what: str, want: str) -> list[float]:
    """`value` from the runner, if it is a list of Python floats; otherwise fail saying what
    it held (`want` says what it should be, in the exercise's words)."""
    if type(value) is list and all(type(v) is float for v in value):
        return value
    if type(value) is list:
        kinds = sorted({"a tensor" if type(v) is torch.Tensor else _kind(v) for v in value})
        got = "a list of " + ", ".join(kinds) if kinds else "an empty list"
    else:
        got = _kind(value)
    fail(messages.WRONG_RETURN_TYPE.format(what=what, got=got, want=want))


def _kind(value: Any) -> str:
    if type(value) is dict and type(value.get("wrong_type")) is str:
        return value["wrong_type"]
    return f"a {type(value).__name__}"


def defines(*required: str) -> Callable[[Learner], None]:
    """The check that the learner's file imports and defines `required`, worth no points: it
    is what every other check of the exercise needs first."""

    @points(0)
    def test_imports(learner: Learner) -> None:
        require_names(learner, *required)

    test_imports.__doc__ = f"Your file imports and defines {_listed(required)}"
    return test_imports


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def require_names(learner: Learner, *required: str) -> None:
    """Import the learner's file; fail unless it defines every name in `required`."""
    names = learner.load()["names"]
    if missing := [n for n in required if n not in names]:
        shown = ", ".join(names[:SHOWN_NAMES]) or "nothing"
        defined = shown + (
            f", and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
        )
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


def function_of(error: dict, learner: Learner, default: str) -> str:
    """The learner's function where the error was raised ("forward"), read from the
    traceback's last frame in the learner's file; else `default` without its "Your "."""
    frames = re.findall(r'File "([^"]*)", line \d+, in (\w+)', error.get("traceback", ""))
    names = [name for file, name in frames if file == str(learner.path)]
    return names[-1] if names else default.removeprefix("Your ")


def raised(error: dict, what: str, message: str | None = None) -> str:
    """'Your forward raised RuntimeError at line 19 (`out = self.layer(x)`): …',
    with the exception's whole message unless `message` is given."""
    where = f" at line {error['line']}" if error.get("line") else ""
    code = f" (`{error['code']}`)" if error.get("code") else ""
    message = message or error.get("message") or "(no message)"
    return f"{what} raised {error.get('type', 'an exception')}{where}{code}:\n    {message}"


# --------------------------------------------------------------------- messages

MORE = " (more with -v)"
TODO_LEFT = "Your {function} still raises NotImplementedError: a TODO is left to do."
MISSING_NAMES = "{file} defines no {missing} (it defines: {names})."
WRONG_TYPE = "{call} returned {got}; {expected}"
NOT_A_TENSOR = "{what} returned {got}, not a tensor."
NOT_PLAIN = "{what} returned {got}; return an ordinary (dense, strided) torch.Tensor of numbers."
