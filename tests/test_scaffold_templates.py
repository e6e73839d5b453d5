"""The scaffold's templates are real files: ruff checks them as they are (test_lint), and each
renders, placeholders filled, into a file that ruff passes and Python compiles, with no
placeholder left."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from course.scaffold import TEMPLATES, render

FILL = {"id": "08_padding", "title": "Padding", "filename": "padding.py", "stem": "padding",
        "points": "6", "number": "8", "objectives": "shapes"}  # fmt: skip
RUFF = Path(sys.executable).parent / "ruff"
REPO = Path(__file__).resolve().parent.parent


def test_every_template_renders_without_a_placeholder_left():
    names = sorted(p.name for p in TEMPLATES.iterdir())
    assert names == ["check.py", "entry.yaml", "probe.py", "solution.py", "starter.py",
                     "statement.md"]  # fmt: skip
    for name in names:
        text = render(name, FILL)
        assert not re.search(r"__(id|title|filename|stem|points|number|objectives)__", text)
        assert "noqa: F821" not in text, name


def test_rendered_python_compiles_and_passes_ruff():
    where = {
        "check.py": "grader/checks/check_08_padding.py",
        "probe.py": "grader/confined/probes/padding.py",
        "solution.py": "solutions/08_padding/padding.py",
        "starter.py": "exercises/08_padding/padding.py",
    }
    for name, path in where.items():
        text = render(name, FILL)
        compile(text, path, "exec")
        for command in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
            args = [str(RUFF), *command, "--stdin-filename", path, "-"]
            result = subprocess.run(args, input=text, capture_output=True, text=True, cwd=REPO)
            assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"


def test_the_entry_is_one_exercise_of_course_yaml():
    (entry,) = yaml.safe_load(render("entry.yaml", FILL))
    assert entry["id"] == "08_padding" and entry["points"] == 6
    assert entry["objectives"] == ["shapes"] and len(entry["hints"]) == 3
