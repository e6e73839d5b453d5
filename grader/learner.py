"""The checker's handle on a learner's file: starts a confined runner on demand, loads the
file into it once, and forwards probe requests within the exercise's time budget."""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from courseware.files import read_learner_file
from grader.checking import CheckFailure, raised
from grader.confined.limits import Limits
from grader.zygote import (
    HELLO_SECONDS,
    RunnerDied,
    RunnerProcess,
    RunnerSpec,
    RunnerTimeout,
    Zygote,
)

TIMEOUT = (
    "{what} did not finish within {seconds:g} s{clock} and was stopped. Look for a loop that "
    "never ends, or work far larger than the exercise needs."
)
CLOCKS = {  # what a call's time limit counted (grader.zygote.CallClock)
    "cpu": " of CPU time",
    "wall": "",
    "backstop": (
        " of waiting (it used little CPU time: look for a sleep, an input() or a lock that is "
        "never released)"
    ),
}
DIED = (
    "{what} ended the grader's runner: {how}. "
    "Calls such as exit() or os._exit(), or a crash, do this."
)
FORGED_LOAD = (
    "Importing your file gave the grader a reply no import gives ({why}): something in your "
    "file wrote on the grader's channel or changed the runner."
)
MAX_IMPORT_MESSAGE = 4000  # characters of the exception's message: what a runner sends at most
BUDGET = (
    "The time budget for this exercise ({seconds:g} s) is used up; "
    "the remaining checks did not run."
)
WALL_BUDGET = 3.0  # the exercise's budget counts CPU time where it can; the wall clock, this much


class GraderError(Exception):
    """The grader itself failed (not the learner's code): reported as an internal error."""


@dataclass
class Learner:
    """One learner file of one exercise, on one kind of device."""

    exercise: str
    path: Path
    zygote: Zygote
    limits: Limits
    hidden: tuple[str, ...]
    device: str = "cpu"
    secrets: tuple[str, ...] = ()
    isolation: dict = field(default_factory=dict)
    output: str = ""
    source: str = ""  # the file as the runner got it, read safely once: checks quote this
    _runner: RunnerProcess | None = None
    _load_reply: dict | None = None
    _spent: float = 0.0  # CPU seconds of the runner's group where counted, else wall seconds
    _waited: float = 0.0  # wall seconds, all calls together

    def load(self) -> dict:
        """Import the learner's file in a runner (once); the reply names what it defines.
        Raises CheckFailure when the file cannot be read, compiled or imported."""
        if self._load_reply is None or (self._runner and not self._runner.alive):
            self._load_reply = self._start_and_load()
        if "error" in self._load_reply:
            raise CheckFailure(self._import_message(self._load_reply["error"]))
        return self._load_reply

    def probe(
        self,
        name: str,
        what: str,
        timeout: float | None = None,
        while_waiting: Callable[[], object] | None = None,
        **args,
    ) -> dict:
        """Run probe `name` on the learner's module; `what` names the learner's code in
        messages ("Your forward"); `while_waiting` is checker work to overlap with the runner's.
        Returns the reply, which may hold an "error"."""
        self.load()
        message = {"op": "probe", "name": name, "args": args}
        return self._request(message, what, timeout, while_waiting)

    def _start_and_load(self) -> dict:
        try:
            source = self.source = read_learner_file(self.path).decode("utf-8")
        except UnicodeDecodeError as exc:
            return {"error": {"type": "UnicodeDecodeError", "message": _undecodable(exc)}}
        except OSError as exc:
            why = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
            return {"error": {"type": "OSError", "message": f"cannot read the file: {why}"}}
        if self._runner is not None:
            self._runner.close()
        gpu = self.device != "cpu"  # CUDA or MPS: no address-space limit, memory is polled
        spec = RunnerSpec(self.exercise, self.hidden, self.limits, gpu, self.secrets)
        self._runner = self.zygote.spawn(spec)
        try:
            self.isolation = self._runner.hello(HELLO_SECONDS)
        except (RunnerDied, RunnerTimeout) as exc:
            output = exc.output if isinstance(exc, RunnerDied) else ""
            raise GraderError(f"the grader could not start a runner: {exc}\n{output}") from None
        message = {
            "op": "load",
            "source": source,
            "filename": str(self.path),
            "module": self.path.stem,
        }
        reply = self._request(message, "Importing your file")
        names = reply.get("names")
        if "error" not in reply and (
            reply.get("ok") is not True
            or type(names) is not list
            or not all(type(n) is str for n in names)
        ):
            why = "no list of the names it defines"
            return {"error": {"type": "RunnerError", "message": FORGED_LOAD.format(why=why)}}
        return reply

    def _request(
        self, message: dict, what: str, timeout: float | None = None, while_waiting=None
    ) -> dict:
        budget = self.limits.exercise_seconds
        left = budget - self._spent
        if left <= 0 or self._waited > WALL_BUDGET * budget:
            raise CheckFailure(BUDGET.format(seconds=budget))
        seconds = min(timeout or self.limits.request_seconds, left)
        start = time.monotonic()
        try:
            reply = self._runner.request(message, seconds, while_waiting)
        except RunnerTimeout as exc:
            self._remember_output()
            shown = exc.seconds if exc.clock == "backstop" else seconds
            clock = CLOCKS[exc.clock]
            raise CheckFailure(TIMEOUT.format(what=what, seconds=shown, clock=clock)) from None
        except RunnerDied as exc:
            self._remember_output()
            raise CheckFailure(DIED.format(what=what, how=exc.how)) from None
        finally:
            self._spent += self._runner.spent
            self._waited += time.monotonic() - start
        if "grader_error" in reply:  # a probe the runner does not know, or a bad reply
            raise GraderError(f"the runner says: {reply['grader_error']}")
        return reply

    def _import_message(self, error: dict) -> str:
        name = self.path.name
        error = {**error, "message": _cut(error.get("message", ""), MAX_IMPORT_MESSAGE)}
        if error.get("type") == "SyntaxError" or error.get("type") == "IndentationError":
            return (
                f"{name} line {error.get('line', '?')}: {error['type']}: {error['message']}\n"
                f"    {error.get('code', '')}\nPython cannot read the file; fix this line first."
            )
        if error.get("type") in ("UnicodeDecodeError", "OSError", "RunnerError"):
            return f"{name}: {error['message']}"
        return (
            raised(error, f"Importing {name}")
            + "\nEverything at the top level of your file runs on import."
        )

    def _remember_output(self) -> None:
        if self._runner is not None:
            self.output = self._runner.output_tail()

    def close(self) -> None:
        if self._runner is not None:
            self._remember_output()
            self._runner.close()
            self._runner = None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _undecodable(exc: UnicodeDecodeError) -> str:
    return f"the file is not valid UTF-8 (byte {exc.start}); save it as UTF-8 text in your editor"
