"""Diagnosis as data: a check declares its mistakes (a name, a replay of the mistake on the
reference's inputs, the message) and `diagnose` runs the replays and says which one the
learner's result matches. Replays that raise are mistakes that cannot run: never a match."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


def replayed(mistake: Mistake) -> Any:
    """What the mistake gives, or None when replaying it raises (it cannot run at all)."""
    try:
        return mistake.replay()
    except (RuntimeError, ValueError, IndexError, TypeError):
        return None


def matching(actual: Any, mistakes: Iterable[Mistake], same: Same) -> Mistake | None:
    """The first mistake whose replay equals the learner's `actual` result, or None."""
    for mistake in mistakes:
        found = replayed(mistake)
        if found is not None and same(actual, found):
            return mistake
    return None


def diagnose(actual: Any, mistakes: Iterable[Mistake], same: Same, otherwise: str) -> str:
    """The message of the mistake the learner's result matches; `otherwise` when none does."""
    found = matching(actual, mistakes, same)
    return found.message if found else otherwise
