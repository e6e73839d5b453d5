"""`course new exercise SLUG`: every file of a new exercise, from templates that say what to
write in each, and its entry in course.yaml. CONTRIBUTING.md, "Adding an exercise", is the
guide these templates follow; `course validate` says what is still missing."""

from __future__ import annotations

import re
from pathlib import Path

from courseware.authoring import is_authors_repository, parts
from courseware.content import MANIFEST, Exercise, Module, load_module
from courseware.errors import CourseError
from courseware.files import write_atomically
from courseware.starters import Starter

SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


def new_exercise(slug: str, title: str | None, objectives: tuple[str, ...], points: int) -> str:
    """Write the files of exercise NN_SLUG and its course.yaml entry; say what comes next."""
    module = load_module()
    _require_authoring(module, slug, objectives)
    number = max(ex.number for ex in module.exercises) + 1
    title = title or slug.replace("_", " ").capitalize()
    ex = Exercise(
        id=f"{number:02d}_{slug}", title=title, file=f"{slug}.py", points=points,
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
    p, stem = parts(ex), Path(ex.file).stem
    fill = {"id": ex.id, "title": ex.title, "file": ex.file, "stem": stem,
            "points": ex.points, "number": ex.number}  # fmt: skip
    return {
        p.statement: STATEMENT.format(**fill),
        p.starter: STARTER.format(**fill),
        p.solution: SOLUTION.format(**fill),
        p.check: CHECK.format(**fill),
        p.probe: PROBE.format(**fill),
        p.mistakes / ".gitkeep": "",
        p.correct / ".gitkeep": "",
    }


def _add_to_manifest(path: Path, ex: Exercise) -> None:
    """Insert the entry after the last exercise, keeping every comment of the file."""
    text = path.read_text("utf-8")
    at = text.find("\n# Question banks")
    at = at if at >= 0 else text.index("\nquizzes:")
    entry = ENTRY.format(
        id=ex.id, title=ex.title, file=ex.file, points=ex.points,
        objectives=", ".join(ex.objectives),
    )  # fmt: skip
    write_atomically(path, text[:at].rstrip("\n") + "\n" + entry + text[at:])


NOT_AUTHORS = (
    "{root} is not the authors' repository (it has no tests/corpus/): new exercises are made "
    "in a clone of the course's source."
)
ENTRY = """\
  - id: {id}
    title: {title}
    file: {file}
    points: {points}
    objectives: [{objectives}]
    hints:
      - "TODO: a nudge: which idea of the lesson applies here?"
      - "TODO: nearly the answer, said in words, as the last rung of the ladder."
"""
NEXT_STEPS = """\
Made exercise {id}:
{written}
and its entry in {manifest}. `course validate` lists what is left; in the order of
CONTRIBUTING.md ("Adding an exercise"):
  1. the hints of its entry in {manifest} (a ladder, the last one nearly the answer);
  2. the statement;
  3. the reference solution;
  4. the starter, then `course verify --approve-starters`;
  5. the probe;
  6. the checks (their points add up to the entry's);
  7. at least 3 mistakes and 2 correct variants under tests/corpus/{id}/ (then delete the
     .gitkeep files);
  8. its row in README.md's table of exercises.
Then `course verify --exercise {id}` until every claim holds."""
STATEMENT = """\
# Exercise {number} — {title}

TODO: one paragraph: what the learner builds and why it matters (link the lesson's section).

## What to write

In `{file}`, TODO: the function or class, its arguments and what it returns, with every shape
written out, e.g. `x: (batch, seq_len, input_size)`.

## How it is graded

TODO: the checks, in the learner's words, and what each one compares.

Grade it with `course grade exercises/{id}` (or `course watch`).
"""
STARTER = '''\
"""Exercise {number}: {title}. Read README.md beside this file first.

Grade it with:  course grade exercises/{id}
"""

import torch


def {stem}(x: torch.Tensor) -> torch.Tensor:
    # TODO: say what to compute, step by step, with the shapes
    raise NotImplementedError("TODO: write {stem}")
'''
SOLUTION = '''\
"""Reference solution: {title}."""

import torch


def {stem}(x: torch.Tensor) -> torch.Tensor:
    return x  # TODO: the reference: short, with the shape of each line in a comment
'''
CHECK = '''\
"""Checks for exercise {id}: {title}.

TODO: one paragraph: what is compared with the reference, and which mistakes are named.
"""

from __future__ import annotations

from types import ModuleType

import torch

from grader.checking import call, defines, depends, fail, points, tensor
from grader.learner import Learner

EXERCISE = "{id}"

test_imports = defines("{stem}")


@points({points})
@depends("test_imports")
def test_matches_the_reference(learner: Learner, reference: ModuleType) -> None:
    """The result for a small input equals the reference's"""
    x = torch.randn(2, 3, generator=torch.Generator().manual_seed(0))
    reply = call(learner, "{stem}.run", "Your {stem}", expected="a tensor", x=x)
    got = tensor(reply["value"], "Your {stem}")
    if not torch.allclose(got, reference.{stem}(x)):
        fail(WRONG)


WRONG = "TODO: what was seen, what was expected, the likely cause and the next step."
'''
PROBE = '''\
"""Probe for exercise {id}: call the learner's {stem} on the checker's input and send back
plain data only."""

from __future__ import annotations

import types

import torch

from grader.probes.common import wrong_type


def run(learner: types.ModuleType, x: torch.Tensor) -> dict:
    """{stem}(x), as plain data: a copy of the tensor it returns, never the object itself."""
    # TODO: also send what a diagnosis needs to see (calls made, inputs changed), or delete this
    result = learner.{stem}(x)
    if type(result) is not torch.Tensor:
        return wrong_type(result, "{stem}(x)")
    return {{"value": result.detach().to("cpu").clone()}}
'''
