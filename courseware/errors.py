"""One exception family for everything a user can get wrong; click prints it and exits."""

from __future__ import annotations

from dataclasses import dataclass

import click

EXIT_FAILED = 1  # the command ran and something did not pass
EXIT_USAGE = 2  # bad arguments or bad content: nothing was graded


class CourseError(click.ClickException):
    """Base class: a message for a person and the exit code that goes with it."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the content, where it is and what to do."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(CourseError):
    """The course content is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        count = len(self.problems)
        head = f"the course content has {count} problem{'s' if count != 1 else ''}:"
        lines = [head, *(str(p) for p in self.problems), CONTENT_NEXT_STEP]
        super().__init__("\n".join(lines))


CONTENT_NEXT_STEP = "Fix them, then run `course validate` to check again."
