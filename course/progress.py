"""`course progress`: where a learner stands in this module, from the data folder's records.

An exercise is `not_attempted` (missing, or still the starter), `failing` or `done` (by its last
grade), or `stale` (the file changed since its last grade, or was never graded). The quiz counts
each question of the bank once, with its best answer in any attempt taken in this workspace (a
question never answered counts 0), so a short `--count` attempt counts only what it asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from course import history, state
from course.workspace import Workspace, state_of_file
from courseware.content import Module
from courseware.quizbank import QuizBank

NOT_ATTEMPTED, FAILING, DONE, STALE = "not_attempted", "failing", "done", "stale"


@dataclass(frozen=True)
class ExerciseProgress:
    id: str
    title: str
    state: str
    score: float  # what counts now: 0 unless the last grade is of the file as it is
    max_score: float
    last_score: float | None = None  # the last grade's score, even when stale
    unreadable: bool = False  # the file is there but cannot be read (permissions, a link...)


@dataclass(frozen=True)
class Progress:
    exercises: tuple[ExerciseProgress, ...]
    quiz_best: float | None  # each question's best credit, summed; None: none answered yet
    quiz_max: int  # the questions of the module's banks
    missing: str | None = None  # the workspace's exercises/ folder, when it is not there
    quiz_unanswered: int = 0  # questions of the banks never answered in this workspace

    @property
    def exercise_score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def exercise_max(self) -> float:
        return sum(e.max_score for e in self.exercises)

    @property
    def total(self) -> tuple[float, float]:
        return self.exercise_score + (self.quiz_best or 0), self.exercise_max + self.quiz_max

    def first_unfinished(self) -> ExerciseProgress | None:
        return next((e for e in self.exercises if e.state != DONE), None)


def progress(module: Module, workspace: Workspace) -> Progress:
    """Every exercise's state in `workspace`, and the best quiz score of this module."""
    grades = state.last_grades(workspace.key, {ex.id: ex.points for ex in module.exercises})
    exercises = tuple(_exercise(ex, workspace, grades.get(ex.id)) for ex in module.exercises)
    best, quiz_max, unanswered = _quiz(module, workspace.key)
    missing = None if workspace.exercises.is_dir() else str(workspace.exercises)
    return Progress(exercises, best, quiz_max, missing, unanswered)


def _exercise(ex, workspace: Workspace, grade: state.Grade | None) -> ExerciseProgress:
    kind, fingerprint = state_of_file(workspace, ex)
    last = grade.score if grade and grade.state == "graded" else None
    if kind in ("missing", "starter"):
        return ExerciseProgress(ex.id, ex.title, NOT_ATTEMPTED, 0, ex.points)
    if kind == "unreadable":
        return ExerciseProgress(ex.id, ex.title, STALE, 0, ex.points, last, unreadable=True)
    if grade is None or grade.fingerprint != fingerprint or grade.state != "graded":
        return ExerciseProgress(ex.id, ex.title, STALE, 0, ex.points, last)
    done = grade.score >= grade.max_score - 1e-9
    return ExerciseProgress(
        ex.id, ex.title, DONE if done else FAILING, grade.score, ex.points, last
    )


def _quiz(module: Module, workspace: str) -> tuple[float | None, int, int]:
    """The sum of each question's best credit, the number of questions, and how many of them
    were never answered, over every bank of the module."""
    best: float | None = None
    questions = unanswered = 0
    for bank in module.quizzes:
        credits = best_credits(bank, history.attempts(bank.id, workspace))
        questions += len(bank.questions)
        unanswered += len(bank.questions) - len(credits)
        if credits:
            best = (best or 0) + round(sum(credits.values()), 2)
    return best, questions, unanswered


def best_credits(bank: QuizBank, attempts: list[history.Attempt]) -> dict[str, float]:
    """The best credit each question of `bank` earned in `attempts`, by question id; a question
    no longer in the bank is left out."""
    asked = {q.id for q in bank.questions}
    best: dict[str, float] = {}
    for attempt in attempts:
        for outcome in attempt.questions:
            if outcome.id in asked:
                best[outcome.id] = max(best.get(outcome.id, 0.0), outcome.credit)
    return best


def as_json(p: Progress) -> dict:
    score, max_score = p.total
    return {
        "exercises": [
            {"id": e.id, "state": e.state, "score": e.score, "max_score": e.max_score}
            for e in p.exercises
        ],
        "quiz": {"best": p.quiz_best, "max_score": p.quiz_max, "unanswered": p.quiz_unanswered},
        "total": {"score": score, "max_score": max_score},
    }


def number(x: float) -> str:
    """10.0 -> "10", 2.5 -> "2.5"."""
    return f"{x:g}"


def describe(e: ExerciseProgress) -> str:
    if e.state == NOT_ATTEMPTED:
        return f"not attempted (0/{number(e.max_score)})"
    if e.unreadable:
        return f"cannot be read: not a regular file you can read (0/{number(e.max_score)})"
    if e.state == STALE and e.last_score is None:
        return f"edited, not graded yet (0/{number(e.max_score)})"
    if e.state == STALE:
        return f"changed since its last grade (was {number(e.last_score)}/{number(e.max_score)})"
    return f"{number(e.score)}/{number(e.max_score)}" + ("  done" if e.state == DONE else "")


def table(p: Progress) -> str:
    """The learner's view: a line per exercise, the quiz, the totals."""
    lines = [f"  {e.id:<26} {describe(e)}" for e in p.exercises]
    lines.append(f"  {'quiz':<26} {describe_quiz(p)}")
    lines += ["", one_line(p)]
    if p.missing:
        lines.append(MISSING.format(folder=p.missing))
    if any(e.state == STALE for e in p.exercises):
        lines.append("Exercises changed since their last grade count 0 until `course grade`.")
    return "\n".join(lines)


def describe_quiz(p: Progress) -> str:
    """`not taken yet (0/36)`, or the best answers so far and how many were never answered."""
    if p.quiz_best is None:
        return f"not taken yet (0/{p.quiz_max})"
    unanswered = p.quiz_unanswered
    left = "every question answered" if not unanswered else f"{unanswered} never answered"
    return f"{number(p.quiz_best)}/{p.quiz_max}, best answer to each question ({left})"


def one_line(p: Progress) -> str:
    done = sum(e.state == DONE for e in p.exercises)
    score, max_score = p.total
    quiz = "-" if p.quiz_best is None else number(p.quiz_best)
    return (
        f"Module: {done}/{len(p.exercises)} exercises done, "
        f"exercises {number(p.exercise_score)}/{number(p.exercise_max)}, "
        f"quiz {quiz}/{p.quiz_max}, total {number(score)}/{number(max_score)}"
    )


MISSING = (
    "{folder} is missing, so every exercise counts as not attempted; in a `course init` "
    "workspace, `course init --upgrade` lays it out again."
)
