"""What an exercise is made of in the authors' repository, and the check that nothing is
missing or astray. `course validate` runs it where tests/corpus exists (the authors' repository
or a clone of it); a workspace or a wheel ships no probes or corpus, so there it checks only
what the package ships. CONTRIBUTING.md, "Adding an exercise", walks through the same list.
"""

from __future__ import annotations

import re
from pathlib import Path

from courseware import meanings
from courseware.content import CORPUS, Exercise, Module
from courseware.errors import Problem
from courseware.starters import APPROVE, LOCK

MIN_MISTAKES = 3  # a few typical mistakes, each caught by the check its header names
MIN_CORRECT = 2  # a few correct but unusual solutions, each given full marks
MIN_HINTS = 3  # a ladder: a nudge, a step, nearly the answer
TEMPLATE_MARK = "TODO"  # what `course new exercise` leaves in each part for the author
README = "README.md"
TABLE_ROW = re.compile(r"^\| `(\d\d_[a-z0-9_]+)` \| .* \| (\d+) \|$", re.MULTILINE)
# a probe's name where a check calls it: call(learner, "stem.function", ...) or .probe("...")
PROBE_CALL = re.compile(r"""(?:\bcall\(\s*\w+\s*,|\.probe\()\s*["'](\w+)\.(\w+)["']""")
IGNORED = {"__pycache__", ".pytest_cache"}
ENGINE_PROBES = Path(__file__).resolve().parent.parent / "grader" / "confined" / "probes"


def content_problems(module: Module) -> list[Problem]:
    """Everything `course validate` reports: starters, quiz cues, the module's own meanings
    and, in the authors' repository, every part of every exercise (`course verify` reports
    them too)."""
    from courseware.quizcues import cue_problems

    problems = starter_problems(module) + meanings.read(module.root)[1]
    for bank in module.quizzes:  # answers a learner could guess without reading
        problems += cue_problems(bank)
    if is_authors_repository(module.root):
        problems += authoring_problems(module)
    return problems


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
    for ex in module.exercises:
        problems += _template_left(root, ex) + _few_hints(module, ex) + _unknown_probes(root, ex)
    problems += _readme_table(module)
    return problems


def _template_left(root: Path, ex: Exercise) -> list[Problem]:
    """A template's TODO still in the statement, reference, check or probe (the starter is
    the one part whose TODOs are the learner's)."""
    p, found = ex.parts, []
    for path in (p.statement, p.solution, p.check, p.probe):
        lines = _lines(root / path)
        at = next((n for n, line in enumerate(lines, 1) if TEMPLATE_MARK in line), 0)
        if at:
            found.append(Problem(str(path), at, TEMPLATE_LEFT.format(id=ex.id)))
    return found


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []  # a missing part is reported as missing


def _few_hints(module: Module, ex: Exercise) -> list[Problem]:
    if len(ex.hints) >= MIN_HINTS:
        return []
    message = FEW_HINTS.format(id=ex.id, n=len(ex.hints), least=MIN_HINTS)
    return [Problem("course.yaml", _line_of(module, f"- id: {ex.id}"), message)]


def probe_folder(root: Path) -> Path:
    """Where the probes a module's checks call live: the module's own grader/confined/probes/ (the
    engine's repository), else the engine's, installed beside this package (another module
    of the course ships checks and calls the engine's probes)."""
    own = root / "grader" / "confined" / "probes"
    return own if own.is_dir() else ENGINE_PROBES


def probes_called(root: Path, ex: Exercise) -> list[tuple[str, str, int]]:
    """(module, function, line) of each probe the exercise's check calls."""
    text = "\n".join(_lines(root / ex.parts.check))
    return [(*m.groups(), text.count("\n", 0, m.start()) + 1) for m in PROBE_CALL.finditer(text)]


def _unknown_probes(root: Path, ex: Exercise) -> list[Problem]:
    """Each probe the check calls, `call(learner, "module.function", ...)`, is a public
    function of grader/confined/probes/module.py."""
    check, folder, found = ex.parts.check, probe_folder(root), []
    for stem, function, at in probes_called(root, ex):
        source = "\n".join(_lines(folder / f"{stem}.py"))
        if not re.search(rf"^def {function}\(", source, re.MULTILINE):
            call = f"{stem}.{function}"
            message = NO_PROBE.format(call=call, probe=f"grader/confined/probes/{stem}.py")
            found.append(Problem(str(check), at, message))
    return found


def _readme_table(module: Module) -> list[Problem]:
    """The README's table of exercises has one row per exercise, with its points."""
    lines = _lines(module.root / README)
    if not lines:
        return []
    rows = {m[0]: m[1] for m in TABLE_ROW.findall("\n".join(lines))}
    found = []
    for ex in module.exercises:
        if ex.id not in rows:
            found.append(Problem(README, 1, NO_ROW.format(id=ex.id, points=ex.points)))
        elif int(rows[ex.id]) != ex.points:
            at = next(n for n, line in enumerate(lines, 1) if line.startswith(f"| `{ex.id}`"))
            message = ROW_POINTS.format(id=ex.id, got=rows[ex.id], points=ex.points)
            found.append(Problem(README, at, message))
    return found


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
    p, found = ex.parts, []
    # a probe of its own only where the check calls one named after the exercise's file
    own = any(stem == p.probe.stem for stem, _, _ in probes_called(root, ex))
    for role, path in [("starter", p.starter), *([("probe", p.probe)] if own else [])]:
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
    expected = {ex.id: ex.parts for ex in module.exercises}
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
    checks = {f"check_{ex.id}.py" for ex in module.exercises} | {meanings.FILE.name}
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
TEMPLATE_LEFT = (
    "exercise {id}: a template's TODO is still here; write this part (CONTRIBUTING.md, "
    "'Adding an exercise')"
)
FEW_HINTS = "exercise {id} has {n} hint(s); write at least {least}, a ladder to nearly the answer"
NO_PROBE = (
    "this check calls the probe {call}, and no {probe} defines it: define it there, or call "
    "a probe that exists"
)
NO_ROW = (
    "the table under '## The exercises' has no row for {id}: add "
    "| `{id}` | what the learner writes | {points} |"
)
ROW_POINTS = "the row of {id} says {got} points; course.yaml gives it {points}"
STRAY_CHECK = "a check module of no exercise in course.yaml: rename or delete it"
