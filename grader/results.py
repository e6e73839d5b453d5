"""One result model for every report writer (terminal, JSON, Gradescope, JUnit, gradebook, CSV).

Writers never walk the model on their own: `cases()` is the one serialisation of a result into
the lines every report shows (a check on one device, or an exercise that did not run). Every
string set on a result passes through the sanitiser (`grader.sanitize`), so learner text that
reaches a writer is already safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from grader.sanitize import Sanitised

if TYPE_CHECKING:
    from courseware.content import Exercise


@dataclass(frozen=True)
class Series:
    """One curve of a figure: a label and its values (None where a value is not finite)."""

    label: str
    y: tuple[float | None, ...]
    x: tuple[float, ...] | None = None  # None: 0, 1, 2, ...


@dataclass(frozen=True)
class Figure:
    """What a check that compares curves draws: the learner's over the reference's, made
    from the runner's replies and the checker's own values, never by running learner code."""

    title: str
    series: tuple[Series, ...]
    caption: str = ""  # the case it shows, e.g. "nn.RNN(3, 8, 1) over 12 steps"
    xlabel: str = ""
    ylabel: str = ""
    log_y: bool = False
    points: bool = False  # markers (a value per sequence), not lines

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Figure:
        """A figure read back from a JSON report."""
        series = tuple(
            Series(s["label"], tuple(s["y"]), tuple(s["x"]) if s.get("x") else None)
            for s in data["series"]
        )
        return cls(**{**data, "series": series})


PASSED, FAILED, BLOCKED, ERROR = "passed", "failed", "blocked", "error"
NOT_ATTEMPTED, NOT_RUN = "not_attempted", "not_run"
GRADED = "graded"
UNGRADED_LABELS = {NOT_ATTEMPTED: "not attempted", ERROR: "not graded"}
# A blocked check's message: the check it waits for, and what that means for it (the terminal
# sums several blocked checks up in one line, with "they").
BLOCKED_PREFIX = "blocked: "
BLOCKED_BY = BLOCKED_PREFIX + "'{title}' did not pass"
SO_IT_CANNOT_RUN = ", so this check cannot run"


@dataclass(frozen=True)
class Case:
    """One line of every report: a check on one device, or an exercise that did not run."""

    exercise: str
    name: str  # for reports: the exercise id, then the check's title (and device)
    title: str  # the check's title, e.g. "Output for a batch (CPU)"
    state: str
    score: float
    max_score: float
    output: str  # what the learner reads
    check: str | None = None  # pytest's name; None for an exercise that did not run
    device: str | None = None
    seconds: float = 0.0
    detail: str = ""
    figures: tuple[Figure, ...] = ()

    @property
    def status(self) -> str:
        """Gradescope's two statuses."""
        return "passed" if self.state == PASSED else "failed"


@dataclass
class CheckResult(Sanitised):
    """The verdict of one check on one device."""

    exercise: str
    name: str  # pytest's name, e.g. "test_batch_output[cpu]"
    title: str  # for people, e.g. "Output for a batch (CPU)"
    state: str
    score: float
    max_score: float
    message: str = ""  # what the learner reads
    detail: str = ""  # tracebacks and printed output, shown with -v
    device: str | None = None
    seconds: float = 0.0
    figures: list[Figure] = field(default_factory=list)  # curves the check compared

    @property
    def passed(self) -> bool:
        return self.state == PASSED


@dataclass
class ExerciseResult(Sanitised):
    """Every check of one exercise, or why none ran."""

    id: str
    title: str
    points: int
    file: str | None
    state: str  # GRADED, NOT_ATTEMPTED, or ERROR (the grader could not grade it)
    message: str = ""
    hints: tuple[str, ...] = ()
    checks: list[CheckResult] = field(default_factory=list)
    isolation: dict = field(default_factory=dict)
    output: str = ""  # the tail of what the learner's code printed
    notes: list[str] = field(default_factory=list)  # how a notebook's cells were read

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 4)

    @property
    def max_score(self) -> float:
        return float(self.points)

    @property
    def complete(self) -> bool:
        return self.state == GRADED and abs(self.score - self.max_score) < 1e-9

    def summary(self) -> dict:
        """The exercise as plain data: its state and score, without the checks."""
        return {"id": self.id, "title": self.title, "file": self.file, "state": self.state,
                "score": self.score, "max_score": self.max_score, "notes": self.notes}  # fmt: skip

    def cases(self, not_run: bool = False) -> Iterator[Case]:
        """This exercise's lines: one for an exercise that did not run, else one per check
        (a check on an absent device only when `not_run`)."""
        if self.state in UNGRADED_LABELS:
            name = f"{self.id} {self.title}: {UNGRADED_LABELS[self.state]}"
            yield Case(self.id, name, self.title, self.state, 0.0, self.max_score, self.message)
        for c in self.checks:
            if c.state != NOT_RUN or not_run:
                yield Case(
                    c.exercise, f"{self.id} {c.title}", c.title, c.state, c.score, c.max_score,
                    c.message, c.name, c.device, c.seconds, c.detail, tuple(c.figures),
                )  # fmt: skip


@dataclass
class GradeReport(Sanitised):
    """A whole grade: the exercises, the devices used and the versions involved."""

    target: str
    exercises: list[ExerciseResult]
    devices: list[str]
    versions: dict[str, str]
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 4)

    @property
    def max_score(self) -> float:
        return float(sum(e.max_score for e in self.exercises))

    @property
    def all_passed(self) -> bool:
        return all(e.complete for e in self.exercises)

    @property
    def isolation(self) -> dict:
        """The isolation levels in force (the first exercise that ran a runner says)."""
        return next((e.isolation for e in self.exercises if e.isolation), {})

    def cases(self, not_run: bool = False) -> Iterator[Case]:
        """Every exercise's lines, in order."""
        for ex in self.exercises:
            yield from ex.cases(not_run)


def not_graded(target: str, exercises: Iterable[Exercise], why: str) -> GradeReport:
    """The report of a submission the grader could not grade: every exercise 0, and why."""
    results = [ExerciseResult(e.id, e.title, e.points, None, ERROR, why) for e in exercises]
    return GradeReport(target, results, devices=[], versions={})


@dataclass
class Outcome(Sanitised):
    """One learner's result: the report (every exercise 0 when it could not be graded)."""

    learner: str
    hash: str  # "" for a grader error: the next run grades the learner again
    report: GradeReport
    seconds: float = 0.0
    error: str | None = None  # why the submission could not be graded
    notes: list[str] = field(default_factory=list)  # for the learner: every file not graded
    flags: list[str] = field(default_factory=list)  # for the instructor: files, checks to look at
