"""One result model for every report writer (terminal, JSON, Gradescope, JUnit, gradebook)."""

from __future__ import annotations

from dataclasses import dataclass, field

PASSED, FAILED, BLOCKED, ERROR = "passed", "failed", "blocked", "error"
NOT_ATTEMPTED, NOT_RUN = "not_attempted", "not_run"


@dataclass
class CheckResult:
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

    @property
    def passed(self) -> bool:
        return self.state == PASSED


@dataclass
class ExerciseResult:
    """Every check of one exercise, or why none ran."""

    id: str
    title: str
    points: int
    file: str | None
    state: str  # "graded" or NOT_ATTEMPTED
    message: str = ""
    hints: tuple[str, ...] = ()
    checks: list[CheckResult] = field(default_factory=list)
    isolation: dict = field(default_factory=dict)
    output: str = ""  # the tail of what the learner's code printed

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 4)

    @property
    def max_score(self) -> float:
        return float(self.points)

    @property
    def complete(self) -> bool:
        return self.state == "graded" and abs(self.score - self.max_score) < 1e-9


@dataclass
class GradeReport:
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
