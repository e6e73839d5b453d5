"""Diagnosis as data: a check declares its mistakes (a name, a replay of the mistake on the
reference's inputs, the message) and `diagnose` runs the replays and says which one the
learner's result matches. Replays that raise are mistakes that cannot run: never a match; a
replay that equals the reference's own result on these inputs explains nothing: never a match
either. Errors get the same treatment: `Hint`s say what an exception means, as data."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

# Whether a learner's result equals a replay's: the check's own comparison.
Same = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Mistake:
    """A usual mistake: its `name`, a `replay` that computes what code making it returns on
    the check's inputs (None when it cannot run), and the `message` that names it."""

    name: str
    replay: Callable[[], Any]
    message: str


def variants(table: Iterable[tuple[str, Any, str]], replay: Callable[[Any], Any]) -> list[Mistake]:
    """Mistakes from a table of (name, change, message): each replayed as `replay(change)`,
    where a change is whatever the check's replay takes (flags for a variant of the reference,
    a function standing for the learner's)."""
    return [Mistake(name, partial(replay, change), message) for name, change, message in table]


def replayed(mistake: Mistake) -> Any:
    """What the mistake gives, or None when replaying it raises (it cannot run at all)."""
    try:
        return mistake.replay()
    except (RuntimeError, ValueError, IndexError, TypeError):
        return None


def matching(
    actual: Any, mistakes: Iterable[Mistake], same: Same, expected: Any = None
) -> Mistake | None:
    """The first mistake whose replay equals the learner's `actual` result, or None. Given the
    reference's `expected` result, a mistake whose replay also equals that one is passed over:
    on these inputs it cannot be told from right code, so it explains nothing."""
    for mistake in mistakes:
        found = replayed(mistake)
        if found is None or not same(actual, found):
            continue
        if expected is None or not same(expected, found):
            return mistake
    return None


def diagnose(
    actual: Any, mistakes: Iterable[Mistake], same: Same, otherwise: str, expected: Any = None
) -> str:
    """The message of the mistake the learner's result matches; `otherwise` when none does."""
    found = matching(actual, mistakes, same, expected)
    return found.message if found else otherwise


@dataclass(frozen=True)
class Hint:
    """What an error means in a check's words: `message`, when the exception's message holds
    one of `words` (case ignored) and `when` holds: what the check knows of the call (a dtype
    error means a forgotten dtype only when the input was not float32), or a test of the
    probe's reply (what the learner's code did before it raised)."""

    words: tuple[str, ...]
    message: str
    when: bool | Callable[[dict], bool] = True

    def fits(self, error: dict, reply: dict) -> bool:
        text = str(error.get("message", "")).lower()
        holds = self.when(reply) if callable(self.when) else self.when
        return holds and any(word.lower() in text for word in self.words)


def hints(*known: Hint) -> Callable[[dict, dict], str]:
    """An `explain` for `grader.checking.call`: the message of the first hint that fits the
    learner's error and the probe's reply, or ""."""

    def explain(error: dict, reply: dict) -> str:
        return next((h.message for h in known if h.fits(error, reply)), "")

    return explain
