"""The scaffold's templates are real files: ruff checks them as they are (test_lint), and each
renders, placeholders filled, into a file that ruff passes and Python compiles, with no
placeholder left."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from course.scaffold import TEMPLATES, next_id, render
from courseware.content import layout

RUFF = Path(sys.executable).parent / "ruff"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fill(module) -> dict[str, str]:
    """The placeholders of a new exercise `padding`, numbered after the module's last one."""
    exercise_id = next_id(module, "padding")
    return {"id": exercise_id, "title": "Padding", "filename": "padding.py", "stem": "padding",
            "points": "6", "number": str(int(exercise_id[:2])), "objectives": "shapes"}  # fmt: skip


def test_the_new_id_follows_the_last_exercise(module, fill):
    assert all(ex.number < int(fill["number"]) for ex in module.exercises)
    assert fill["id"] == f"{int(fill['number']):02d}_padding"


def test_every_template_renders_without_a_placeholder_left(fill):
    names = sorted(p.name for p in TEMPLATES.iterdir())
    assert names == ["check.py", "entry.yaml", "probe.py", "solution.py", "starter.py",
                     "statement.md"]  # fmt: skip
    for name in names:
        text = render(name, fill)
        assert not re.search(r"__(id|title|filename|stem|points|number|objectives)__", text)
        assert "noqa: F821" not in text, name


def test_rendered_python_compiles_and_passes_ruff(fill):
    parts = layout(fill["id"], fill["filename"])
    where = {
        "check.py": parts.check,
        "probe.py": parts.probe,
        "solution.py": parts.solution,
        "starter.py": parts.starter,
    }
    for name, rel in where.items():
        text, path = render(name, fill), rel.as_posix()
        compile(text, path, "exec")
        for command in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
            args = [str(RUFF), *command, "--stdin-filename", path, "-"]
            result = subprocess.run(args, input=text, capture_output=True, text=True, cwd=REPO)
            assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"


def test_the_entry_is_one_exercise_of_course_yaml(fill):
    (entry,) = yaml.safe_load(render("entry.yaml", fill))
    assert entry["id"] == fill["id"] and entry["points"] == 6
    assert entry["objectives"] == ["shapes"] and len(entry["hints"]) == 3
