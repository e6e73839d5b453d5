"""What an exercise is made of in the authors' repository, and the check that nothing is
missing or astray. `course validate` runs it where tests/corpus exists (the authors' repository
or a clone of it); a workspace or a wheel ships no probes or corpus, so there it checks only
what the package ships. CONTRIBUTING.md, "Adding an exercise", walks through the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from courseware.content import Exercise, Module
from courseware.errors import Problem
from courseware.starters import APPROVE, LOCK

CORPUS = Path("tests") / "corpus"
MIN_MISTAKES = 3  # a few typical mistakes, each caught by the check its header names
MIN_CORRECT = 2  # a few correct but unusual solutions, each given full marks
IGNORED = {"__pycache__", ".pytest_cache"}


@dataclass(frozen=True)
class Parts:
    """Every file of one exercise, by role, relative to the course root."""

    statement: Path
    starter: Path
    solution: Path
    check: Path
    probe: Path
    mistakes: Path
    correct: Path


def parts(ex: Exercise) -> Parts:
    stem = Path(ex.file).stem
    corpus = CORPUS / ex.id
    return Parts(
        statement=Path("exercises") / ex.id / "README.md",
        starter=Path("exercises") / ex.id / ex.file,
        solution=Path("solutions") / ex.id / ex.file,
        check=Path("grader") / "checks" / f"check_{ex.id}.py",
        probe=Path("grader") / "probes" / f"{stem}.py",
        mistakes=corpus / "mistakes",
        correct=corpus / "correct",
    )


def starter_problems(module: Module) -> list[Problem]:
    """Every exercise has an approved starter with a TODO in it (checked wherever the content
    is: a learner's package ships a complete lock)."""
    found = []
    for ex in module.exercises:
        if not ex.starter.text:
            message = f"exercise {ex.id}: {LOCK} has no approved starter {ex.file}; {APPROVE}"
            found.append(Problem("course.yaml", _line_of(module, f"- id: {ex.id}"), message))
        elif "TODO" not in ex.starter.text:
            message = (
                f"exercise {ex.id}: the approved starter {ex.file} has no TODO for the learner"
            )
            found.append(Problem(LOCK, _line_of(module, f"{ex.id}:", LOCK), message))
    return found


def _line_of(module: Module, text: str, name: str = "course.yaml") -> int:
    """The first line of a content file that holds `text` (1 when none does)."""
    lines = (module.root / name).read_text("utf-8").splitlines()
    return next((n for n, line in enumerate(lines, 1) if text in line), 1)


def is_authors_repository(root: Path) -> bool:
    return (root / CORPUS).is_dir()


def authoring_problems(module: Module) -> list[Problem]:
    """Missing parts and stray files of every exercise, each with what to do."""
    root, problems = module.root, []
    for ex in module.exercises:
        problems += _missing(root, ex)
    problems += _strays(module)
    problems += _unwritten_hints(module)
    return problems


def _unwritten_hints(module: Module) -> list[Problem]:
    """Hints still holding a template's TODO (every hint must teach something)."""
    found = []
    for ex in module.exercises:
        for hint in ex.hints:
            if "TODO" in hint:
                at = _line_of(module, hint[:40])
                found.append(Problem("course.yaml", at, UNWRITTEN_HINT.format(id=ex.id)))
    return found


def _missing(root: Path, ex: Exercise) -> list[Problem]:
    p, found = parts(ex), []
    for role, path in (("starter", p.starter), ("probe", p.probe)):
        if not (root / path).is_file():
            found.append(Problem(str(path), 1, MISSING.format(id=ex.id, role=role)))
    for kind, folder, least in (("mistake", p.mistakes, MIN_MISTAKES),
                                ("correct", p.correct, MIN_CORRECT)):  # fmt: skip
        cases = sorted((root / folder).glob(f"*/{ex.file}"))
        if len(cases) < least:
            message = FEW_CASES.format(id=ex.id, n=len(cases), least=least, kind=kind, file=ex.file)
            found.append(Problem(str(folder), 1, message))
    return found


def _strays(module: Module) -> list[Problem]:
    """Files and folders that belong to no exercise: a renamed exercise's leftovers, a typo."""
    root, found = module.root, []
    expected = {ex.id: parts(ex) for ex in module.exercises}
    for top in ("exercises", "solutions", str(CORPUS)):
        for entry in _entries(root / top):
            if entry.name not in expected:
                found.append(Problem(str(Path(top) / entry.name), 1, STRAY_FOLDER))
    for ex in module.exercises:
        p = expected[ex.id]
        allowed = {
            Path("exercises") / ex.id: {"README.md", ex.file},
            Path("solutions") / ex.id: {ex.file},
        }
        for folder, names in allowed.items():
            for entry in _entries(root / folder):
                if entry.name not in names:
                    found.append(Problem(str(folder / entry.name), 1, STRAY_FILE.format(id=ex.id)))
        for case_folder in (p.mistakes, p.correct):
            for case in _entries(root / case_folder):
                if not (case / ex.file).is_file():
                    message = EMPTY_CASE.format(file=ex.file)
                    found.append(Problem(str(case_folder / case.name), 1, message))
    checks = {f"check_{ex.id}.py" for ex in module.exercises}
    for entry in _entries(root / "grader" / "checks"):
        if entry.name not in checks:
            found.append(Problem(f"grader/checks/{entry.name}", 1, STRAY_CHECK))
    return found


def _entries(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(e for e in folder.iterdir() if e.name not in IGNORED and e.name != ".gitkeep")


MISSING = (
    "exercise {id} has no {role} here; CONTRIBUTING.md, 'Adding an exercise', says what it "
    "holds (`course new exercise` makes every file)"
)
FEW_CASES = (
    "exercise {id} has {n} {kind} case(s) here and needs at least {least}: one folder per "
    "case, each holding {file} with its `# corpus:` header (CONTRIBUTING.md, step 7)"
)
STRAY_FOLDER = "no exercise in course.yaml has this id: rename it, add the exercise, or delete it"
STRAY_FILE = (
    "a stray file in exercise {id}: only README.md and the exercise file belong here (a learner "
    "would be graded on, or confused by, anything else)"
)
EMPTY_CASE = "a corpus case without {file}: each case folder holds exactly the learner's file"
UNWRITTEN_HINT = "exercise {id}: this hint is still the template's TODO; write the hint"
STRAY_CHECK = "a check module of no exercise in course.yaml: rename or delete it"
