"""`course new exercise SLUG`: every file of a new exercise, from templates that say what to
write in each, and its entry in course.yaml. CONTRIBUTING.md, "Adding an exercise", is the
guide these templates follow; `course validate` says what is still missing."""

from __future__ import annotations

import re
from pathlib import Path

from courseware.authoring import is_authors_repository
from courseware.content import MANIFEST, Exercise, Module, load_module
from courseware.errors import CourseError
from courseware.files import write_atomically
from courseware.starters import Starter

SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
TEMPLATES = Path(__file__).parent / "templates" / "exercise"
PLACEHOLDER_NOQA = "  # noqa: F821 - a placeholder"  # lets ruff check a template as it is


def new_exercise(slug: str, title: str | None, objectives: tuple[str, ...], points: int) -> str:
    """Write the files of exercise NN_SLUG and its course.yaml entry; say what comes next."""
    module = load_module()
    _require_authoring(module, slug, objectives)
    title = title or slug.replace("_", " ").capitalize()
    ex = Exercise(
        id=next_id(module, slug), title=title, file=f"{slug}.py", points=points,
        objectives=objectives, hints=(), statement=Path(), starter=Starter(f"{slug}.py", ""),
        solution=Path(), check=Path(),
    )  # fmt: skip
    files = _files(ex)
    for rel in files:
        if (module.root / rel).exists():
            raise CourseError(f"{rel} exists already; pick another SLUG.")
    for rel, text in files.items():
        write_atomically(module.root / rel, text)
    _add_to_manifest(module.root / MANIFEST, ex)
    written = "\n".join(f"  {rel}" for rel in files)
    return NEXT_STEPS.format(id=ex.id, written=written, manifest=MANIFEST)


def next_id(module: Module, slug: str) -> str:
    """The id a new exercise SLUG gets: numbered after the module's last exercise."""
    return f"{max(ex.number for ex in module.exercises) + 1:02d}_{slug}"


def _require_authoring(module: Module, slug: str, objectives: tuple[str, ...]) -> None:
    if not is_authors_repository(module.root):
        raise CourseError(NOT_AUTHORS.format(root=module.root))
    if not SLUG.match(slug):
        raise CourseError(f"'{slug}' is not a slug: lowercase letters, digits and _, e.g. padding")
    if any(ex.id[3:] == slug for ex in module.exercises):
        raise CourseError(f"an exercise named {slug} exists already.")
    known = {o.id for o in module.objectives}
    if unknown := [o for o in objectives if o not in known]:
        raise CourseError(f"unknown objective {', '.join(unknown)}; objectives: {sorted(known)}")


def _files(ex: Exercise) -> dict[Path, str]:
    p = ex.parts
    fill = _fill(ex)
    return {
        p.statement: render("statement.md", fill),
        p.starter: render("starter.py", fill),
        p.solution: render("solution.py", fill),
        p.check: render("check.py", fill),
        p.probe: render("probe.py", fill),
        p.mistakes / ".gitkeep": "",
        p.correct / ".gitkeep": "",
    }


def _fill(ex: Exercise) -> dict[str, str]:
    """What each template's placeholders (__id__, __stem__, ...) become for `ex`."""
    return {
        "id": ex.id, "title": ex.title, "filename": ex.file, "stem": Path(ex.file).stem,
        "points": str(ex.points), "number": str(ex.number), "objectives": ", ".join(ex.objectives),
    }  # fmt: skip


def render(template: str, fill: dict[str, str]) -> str:
    """A template of course/templates/exercise/ with its placeholders filled in (a real file
    that ruff checks; `__name__` marks each placeholder)."""
    text = (TEMPLATES / template).read_text("utf-8").replace(PLACEHOLDER_NOQA, "")
    for name, value in fill.items():
        text = text.replace(f"__{name}__", value)
    return text


def _add_to_manifest(path: Path, ex: Exercise) -> None:
    """Insert the entry after the last exercise, keeping every comment of the file."""
    text = path.read_text("utf-8")
    at = text.find("\n# Question banks")
    at = at if at >= 0 else text.index("\nquizzes:")
    entry = render("entry.yaml", _fill(ex))
    write_atomically(path, text[:at].rstrip("\n") + "\n" + entry + text[at:])


NOT_AUTHORS = (
    "{root} is not the authors' repository (it has no tests/corpus/): new exercises are made "
    "in a clone of the course's source."
)
NEXT_STEPS = """\
Made exercise {id}:
{written}
and its entry in {manifest}. `course validate` lists what is left; in the order of
CONTRIBUTING.md ("Adding an exercise"):
  1. the hints of its entry in {manifest} (a ladder, the last one nearly the answer);
  2. the statement;
  3. the reference solution;
  4. the starter, then `course verify --approve-starters` and `course notebooks --force`;
  5. the probe;
  6. the checks (their points add up to the entry's);
  7. at least 3 mistakes and 2 correct variants under tests/corpus/{id}/ (then delete the
     .gitkeep files);
  8. its row in README.md's table of exercises.
Then `course verify --exercise {id}` until every claim holds."""
