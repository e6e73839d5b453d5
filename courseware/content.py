"""The content model: `course.yaml` and everything it names, loaded once and validated.

Every command gets the module from `load_module()`; nothing else parses YAML. Problems are
collected across all files and raised together as one `ContentError` (file:line: message).
"""

from __future__ import annotations

import ast
import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from courseware import starters, yamlfile
from courseware.errors import ContentError, CourseError, Problem
from courseware.files import write_atomically
from courseware.starters import Starter

if TYPE_CHECKING:
    from courseware.quizbank import QuizBank

MANIFEST = "course.yaml"
NO_ROOT = (
    "no course.yaml found in {cwd} or any folder above it, and this installation carries no "
    "course content.\nRun `course` from inside the course folder, or set COURSE_ROOT to it."
)
PACKAGED = Path(__file__).resolve().parent / "data"  # where a wheel puts the content

MAX_POINTS = 1000  # of one exercise: what the learner's data folder may record, too
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")]
CheckName = Annotated[str, StringConstraints(pattern=r"^test_[a-z0-9_]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModuleInfo(_Strict):
    """Where the module sits in the course and how long it takes."""

    course: Text
    number: int = Field(ge=1)
    of: int = Field(ge=1)
    slug: Slug
    title: Text
    level: Literal["Beginner", "Intermediate", "Advanced"]
    duration_minutes: int = Field(ge=1, le=24 * 60)
    summary: Text


class ObjectiveSchema(_Strict):
    id: Slug
    text: Text


class HintSchema(_Strict):
    """One rung of the hint ladder: plain text (for any failure), or its text and the checks
    (test function names of the check module) it helps with."""

    text: Text
    checks: list[CheckName] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, value: object) -> object:
        return {"text": value} if isinstance(value, str) else value


class ExerciseSchema(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^\d\d_[a-z0-9_]+$")]
    title: Text
    file: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.py$")]
    points: int = Field(ge=1, le=MAX_POINTS)
    objectives: list[Slug] = Field(min_length=1)
    hints: list[HintSchema] = Field(min_length=1)


# Where the course's repository is, for `pip install git+URL@vVERSION` (https, no "@").
Repository = Annotated[str, StringConstraints(pattern=r"^https://[^\s@]+[^\s@/]$")]


class ManifestSchema(_Strict):
    """The shape of course.yaml; see the comments in that file for what each key means."""

    format_version: Literal[1, 2]  # 2 added `repository`
    module: ModuleInfo
    repository: Repository | None = None
    objectives: list[ObjectiveSchema] = Field(min_length=5)
    prerequisites: list[Text] = Field(min_length=1)
    lesson: Text
    exercises: list[ExerciseSchema] = Field(min_length=1)
    quizzes: list[Text] = Field(min_length=1)

    @field_validator("objectives", "exercises")
    @classmethod
    def _unique_ids(cls, items: list) -> list:
        ids = [item.id for item in items]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate id {', '.join(dupes)}")
        return items


CORPUS = Path("tests") / "corpus"


@dataclass(frozen=True)
class Parts:
    """Every file of one exercise, by role, relative to the course root: the one place an
    exercise's layout is written (content, authoring, verify and the scaffold read it)."""

    statement: Path
    starter: Path
    solution: Path
    check: Path
    probe: Path
    mistakes: Path
    correct: Path


def layout(exercise_id: str, file: str) -> Parts:
    """Where each part of exercise `exercise_id`, whose learner's file is `file`, lives."""
    corpus = CORPUS / exercise_id
    return Parts(
        statement=Path("exercises") / exercise_id / "README.md",
        starter=Path("exercises") / exercise_id / file,
        solution=Path("solutions") / exercise_id / file,
        check=Path("grader") / "checks" / f"check_{exercise_id}.py",
        probe=Path("grader") / "confined" / "probes" / f"{Path(file).stem}.py",
        mistakes=corpus / "mistakes",
        correct=corpus / "correct",
    )


@dataclass(frozen=True)
class Exercise:
    """One exercise: its statement, its approved starter (from starters.lock, never the file a
    learner edits), its reference solution and its check module."""

    id: str
    title: str
    file: str
    points: int
    objectives: tuple[str, ...]
    hints: tuple[str, ...]  # the ladder, from a nudge to nearly the answer
    statement: Path
    starter: Starter
    solution: Path
    check: Path
    hint_checks: tuple[tuple[str, ...], ...] = ()  # per hint, the checks it helps with

    @property
    def parts(self) -> Parts:
        """Its files by role, relative to the course root."""
        return layout(self.id, self.file)

    @property
    def number(self) -> int:
        return int(self.id[:2])

    def hint_order(self, failing: str | None) -> tuple[int, ...]:
        """The ladder's indexes in the order to show them: the hints of the `failing` check
        first, then the whole ladder."""
        own = [i for i, checks in enumerate(self.hint_checks) if failing in checks]
        return (*own, *(i for i in range(len(self.hints)) if i not in own))


@dataclass(frozen=True)
class Objective:
    id: str
    text: str


@dataclass(frozen=True)
class Module:
    """The whole module as every command sees it."""

    root: Path
    info: ModuleInfo
    objectives: tuple[Objective, ...]
    prerequisites: tuple[str, ...]
    lesson: Path
    exercises: tuple[Exercise, ...]
    quizzes: tuple[QuizBank, ...]
    repository: str | None = None  # where notebooks install the course from (course.yaml)

    def exercise(self, exercise_id: str) -> Exercise:
        """By id (the exercise's folder name), number (3 or 03), slug (the id without its
        number), file name, or a path ending in the exercise's folder or file (exercises/ID/)."""
        path = Path(exercise_id)
        for name in (exercise_id, path.name, path.parent.name):
            for ex in self.exercises:
                if name in (ex.id, ex.id[3:], ex.file, Path(ex.file).stem) or _numbered(name, ex):
                    return ex
        known = ", ".join(ex.id for ex in self.exercises)
        raise CourseError(f"no exercise '{exercise_id}'; the exercises are: {known}")

    def by_file(self, filename: str) -> Exercise | None:
        return next((ex for ex in self.exercises if ex.file == filename), None)


def _numbered(name: str, ex: Exercise) -> bool:
    """`name` is the exercise's number, with or without its leading zero."""
    return name.isascii() and name.isdigit() and int(name) == ex.number


def find_root(start: Path | None = None) -> Path:
    """The course folder: $COURSE_ROOT, else the nearest folder at or above `start` with a
    course.yaml (a clone), else the content this package carries (a wheel), else the checkout
    it was installed from in editable mode."""
    if env := os.environ.get("COURSE_ROOT"):
        root = Path(env).expanduser().resolve()
        if not (root / MANIFEST).is_file():
            raise CourseError(f"COURSE_ROOT={env} has no {MANIFEST}.")
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST).is_file():
            return folder
    for installed in (PACKAGED, PACKAGED.parent.parent):
        if (installed / MANIFEST).is_file():
            return installed
    raise CourseError(NO_ROOT.format(cwd=here))


def load_module(root: Path | None = None) -> Module:
    """Load and validate the whole module; raise ContentError listing every problem."""
    from courseware.quizbank import load_bank

    root = root or find_root()
    problems: list[Problem] = []
    doc = yamlfile.load(root / MANIFEST, MANIFEST, problems)
    schema = yamlfile.validate(ManifestSchema, doc, problems) if doc else None
    if schema is None:
        raise ContentError(problems)

    objective_ids = {o.id for o in schema.objectives}
    approved = starters.load(root, problems)
    exercises = []
    for i, ex in enumerate(schema.exercises):
        for j, obj in enumerate(ex.objectives):
            if obj not in objective_ids:
                problems.append(doc.problem(("exercises", i, "objectives", j), _unknown(obj)))
        at = doc.problem(("exercises", i, "id"), "")
        exercises.append(_exercise(root, ex, approved.get(ex.id), at, problems))
        _hint_checks(exercises[-1], doc, i, problems)

    lesson = root / schema.lesson
    if not lesson.is_file():
        problems.append(doc.problem(("lesson",), f"lesson file {schema.lesson} not found"))

    banks = []
    for i, rel in enumerate(schema.quizzes):
        if not (root / rel).is_file():
            problems.append(doc.problem(("quizzes", i), f"quiz bank {rel} not found"))
            continue
        bank = load_bank(root / rel, rel, problems, objective_ids)
        if bank is not None:
            banks.append(bank)

    if problems:
        raise ContentError(problems)
    return Module(
        root=root,
        info=schema.module,
        objectives=tuple(Objective(o.id, o.text) for o in schema.objectives),
        prerequisites=tuple(schema.prerequisites),
        lesson=lesson,
        exercises=tuple(exercises),
        quizzes=tuple(banks),
        repository=schema.repository,
    )


def _unknown(objective: str) -> str:
    return f"unknown objective '{objective}'; objectives are declared under `objectives:`"


def _exercise(
    root: Path, ex: ExerciseSchema, starter: Starter | None, at: Problem, problems: list[Problem]
) -> Exercise:
    """Resolve an exercise's files and check that each exists and fits. The learner's copy of
    the starter is never looked at: editing it is the learner's work, not a content error."""

    def report(message: str) -> None:
        problems.append(Problem(at.path, at.line, f"exercise {ex.id}: {message}"))

    if starter is None or starter.file != ex.file:
        starter = Starter(ex.file, "")  # not approved yet: `course validate` says so
    parts = layout(ex.id, ex.file)
    exercise = Exercise(
        id=ex.id,
        title=ex.title,
        file=ex.file,
        points=ex.points,
        objectives=tuple(ex.objectives),
        hints=tuple(h.text for h in ex.hints),
        statement=root / parts.statement,
        starter=starter,
        solution=root / parts.solution,
        check=root / parts.check,
        hint_checks=tuple(tuple(h.checks) for h in ex.hints),
    )

    for role in ("statement", "solution", "check"):
        path = getattr(exercise, role)
        if not path.is_file():
            report(f"{role} {path.relative_to(root)} is missing")
    if exercise.check.is_file():
        try:
            declared = check_points(exercise.check)
        except SyntaxError as exc:
            rel = exercise.check.relative_to(root)
            problems.append(Problem(str(rel), exc.lineno or 1, f"syntax error: {exc.msg}"))
            return exercise
        if declared != ex.points:
            report(
                f"course.yaml gives {ex.points} points but the checks in "
                f"{exercise.check.relative_to(root)} add up to {declared}"
            )
    return exercise


def _hint_checks(ex: Exercise, doc: yamlfile.Document, i: int, problems: list[Problem]) -> None:
    """Every check a hint names is a check of the exercise's module: a typo would silently
    keep the hint from the learners who fail that check."""
    if not any(ex.hint_checks):
        return
    try:
        known = check_names(ex.check)
    except (OSError, SyntaxError):  # reported with the check module itself
        return
    for j, checks in enumerate(ex.hint_checks):
        for k, name in enumerate(checks):
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                also = f"; did you mean '{close[0]}'?" if close else ""
                where = ("exercises", i, "hints", j, "checks", k)
                message = f"exercise {ex.id}: '{name}' is not a check of {ex.check.name}{also}"
                problems.append(doc.problem(where, message))


def check_names(check_file: Path) -> set[str]:
    """The names of the checks a check module defines (`def test_x` or `test_x = ...`), read
    from its syntax tree."""
    names = set()
    for node in ast.parse(check_file.read_text("utf-8"), str(check_file)).body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {name for name in names if name.startswith("test_")}


def check_points(check_file: Path) -> int:
    """Sum of `@pytest.mark.points(N)` in a check module, read from its syntax tree so that
    validating the course never imports torch."""
    total = 0
    for node in ast.walk(ast.parse(check_file.read_text("utf-8"), str(check_file))):
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and re.search(r"\bpoints$", ast.unparse(deco.func))
                    and deco.args
                    and isinstance(deco.args[0], ast.Constant)
                ):
                    total += int(deco.args[0].value)
    return total


def approve_starters(root: Path | None = None, only: tuple[str, ...] = ()) -> list[str]:
    """Write starters.lock from exercises/ID/FILE of every exercise in course.yaml (authors:
    after changing a starter); with `only` (exercise ids), of those alone, keeping the lock's
    other starters as they are. Returns the exercise ids written."""
    root = root or find_root()
    problems: list[Problem] = []
    doc = yamlfile.load(root / MANIFEST, MANIFEST, problems)
    schema = yamlfile.validate(ManifestSchema, doc, problems) if doc else None
    kept = starters.load(root, []) if only and (root / starters.LOCK).is_file() else {}
    listed = [ex.id for ex in schema.exercises] if schema else []
    approved = {i: kept[i] for i in listed if i in kept and i not in only}
    for ex in schema.exercises if schema else ():
        if only and ex.id not in only:
            continue
        path = root / "exercises" / ex.id / ex.file
        try:
            approved[ex.id] = Starter(ex.file, path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path.relative_to(root)), 1, f"cannot read: {exc}"))
    if problems:
        raise ContentError(problems)
    ordered = {i: approved[i] for i in listed if i in approved}  # course.yaml's order
    write_atomically(root / starters.LOCK, starters.dump(ordered))
    return [i for i in approved if not only or i in only]


def edited_starters(module: Module) -> list[Exercise]:
    """The exercises whose file in the course folder's exercises/ is no longer the approved
    starter: a learner's work in a clone, or an author's change not yet approved."""
    edited = []
    for ex in module.exercises:
        path = module.root / "exercises" / ex.id / ex.file
        try:
            if not starters.is_starter(path.read_bytes(), ex.starter):
                edited.append(ex)
        except OSError:
            edited.append(ex)
    return edited
