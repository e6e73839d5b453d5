"""`course export`: the grader packaged for the platforms instructors use.

`course export gradescope`: the autograder zip Gradescope builds its image from.

Gradescope unpacks the zip into /autograder/source, runs setup.sh once, then run_autograder for
each submission, which must write /autograder/results/results.json. Our run_autograder is one
`course grade` call: the same checks, sandbox and messages as on a learner's machine.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from courseware.content import Module
from courseware.files import write_atomically

INCLUDE = ("course.yaml", "starters.lock", "pyproject.toml", "README.md", "course", "courseware",
           "grader", "exercises", "solutions", "quizzes", "lesson", "site")  # fmt: skip
SKIP = {"__pycache__", ".pytest_cache", ".ruff_cache"}

SETUP = """#!/usr/bin/env bash
# Runs once, as root, when Gradescope builds the autograder image.
set -euo pipefail
cd /autograder/source
apt-get install -y python3-venv python3-pip >/dev/null || true
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
# A CPU build of torch: no GPU there, and the CUDA wheels are gigabytes.
/autograder/venv/bin/pip install "torch=={torch}" --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install -e /autograder/source
"""

RUN = """#!/usr/bin/env bash
# Grades /autograder/submission into /autograder/results/results.json (Gradescope's contract).
# AUTOGRADER_ROOT moves /autograder (for tests); COURSE_PYTHON picks the interpreter.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${COURSE_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
cd "$ROOT/source"
COURSE_ROOT="$ROOT/source" "$PYTHON" -m course grade "$ROOT/submission" \\
    --device cpu --format gradescope -o "$ROOT/results/results.json"
status=$?
# 0 and 1 are grades (all passed, some failed); anything else is the grader's own failure.
if [ "$status" -le 1 ]; then exit 0; fi
exit "$status"
"""


def gradescope_bundle(module: Module, output: Path, torch_version: str) -> list[str]:
    """Write the autograder zip; return the names it holds."""
    names = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (
            ("setup.sh", SETUP.format(torch=torch_version)),
            ("run_autograder", RUN),
        ):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            zf.writestr(info, text)
            names.append(name)
        for path in _files(module.root):
            name = path.relative_to(module.root).as_posix()
            zf.write(path, name)
            names.append(name)
    write_atomically(output, buffer.getvalue())
    return names


def _files(root: Path):
    for top in INCLUDE:
        path = root / top
        if path.is_file():
            yield path
        elif path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if d not in SKIP and not d.startswith("."))
                for name in sorted(filenames):
                    yield Path(dirpath) / name
