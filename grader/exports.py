"""`course export`: the grader packaged for the platforms instructors use.

`course export gradescope`: the autograder zip Gradescope builds its image from.
`course export classroom`: the workflow of a GitHub Classroom template (the template itself is
a `course init` workspace, laid out by the course layer).

Gradescope unpacks the zip into /autograder/source, runs setup.sh once, then run_autograder for
each submission, which must write /autograder/results/results.json. Our run_autograder is one
`course grade` call: the same checks, sandbox and messages as on a learner's machine.
"""

from __future__ import annotations

import io
import json
import os
import shlex
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
# Where the container refuses namespaces, the runner is another user that sees the disk: file
# permissions alone keep the references and checks from it (each report lists any it could read).
chmod 711 /autograder /autograder/source
chmod -R go-rwx /autograder/source/solutions /autograder/source/grader/checks
"""

RUN = """#!/usr/bin/env bash
# Grades /autograder/submission into /autograder/results/results.json (Gradescope's contract):
# the file is always written, by `course grade` (even when it cannot grade, with the reason) or,
# when Python itself cannot start, by this script.
# AUTOGRADER_ROOT moves /autograder (for tests); COURSE_PYTHON picks the interpreter.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${COURSE_PYTHON:-$ROOT/venv/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
cd "$ROOT/source"
COURSE_ROOT="$ROOT/source" "$PYTHON" -m course grade "$ROOT/submission" \\
    --device cpu @EXERCISES@--format gradescope -o "$RESULTS"
status=$?
if [ ! -s "$RESULTS" ]; then
    printf '%s\\n' '@FALLBACK@' > "$RESULTS"
fi
# 0 and 1 are grades (all passed, some failed); anything else is the grader's own failure.
if [ "$status" -le 1 ]; then exit 0; fi
exit "$status"
"""
FALLBACK = {
    "score": 0,
    "output": "The autograder failed before it could grade your submission; this is not your "
    "fault. Please tell your instructor.",
    "output_format": "text",
    "tests": [],
}


def gradescope_bundle(
    module: Module, output: Path, torch_version: str, exercises: tuple[str, ...] = ()
) -> list[str]:
    """Write the autograder zip, counting `exercises` (default: all); return its names."""
    run = RUN.replace("@EXERCISES@", _exercise_options(module, exercises))
    run = run.replace("@FALLBACK@", json.dumps(FALLBACK))
    names = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (
            ("setup.sh", SETUP.format(torch=torch_version)),
            ("run_autograder", run),
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


def _exercise_options(module: Module, exercises: tuple[str, ...]) -> str:
    """`--exercise ID ` for each chosen exercise (checked: an unknown id is an error)."""
    return "".join(f"--exercise {shlex.quote(module.exercise(e).id)} " for e in exercises)


CLASSROOM_WORKFLOW = ".github/workflows/classroom.yml"
WORKFLOW = """# GitHub Classroom autograding, written by `course export classroom`.
# On each push it installs the grader from the instructor's location (@GRADER@), grades
# exercises/ with the same checks and sandbox as `course grade`, and reports the points to
# GitHub Classroom. This repository holds no reference solutions and no checks.
name: Autograding Tests
on: [push, workflow_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    name: Autograding Tests
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install the grader
        run: |
          python -m pip install --upgrade pip
          pip install "torch==@TORCH@" --index-url https://download.pytorch.org/whl/cpu
          pip install @GRADER_ARG@
      - name: Grade
        id: grade
        # sudo: the full sandbox (namespaces, another user) needs root; it still grades without.
        run: |
          sudo -E env "PATH=$PATH" course grade exercises/ --device cpu @EXERCISES@\\
            --format classroom -o classroom.json || true
          test -s classroom.json
          echo "result=$(base64 -w0 classroom.json)" >> "$GITHUB_OUTPUT"
      - name: Report the points
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          GRADE_RESULTS: "${{ steps.grade.outputs.result }}"
        with:
          runners: grade
"""


def classroom_workflow(
    module: Module, grader: str, torch_version: str, exercises: tuple[str, ...] = ()
) -> str:
    """The GitHub Actions workflow of a GitHub Classroom template: install the grader from
    `grader` (any pip requirement: a private git URL, a wheel's URL, a package index name),
    grade the learner's exercises, report the points with Classroom's reporter."""
    return (
        WORKFLOW.replace("@GRADER@", grader)
        .replace("@GRADER_ARG@", shlex.quote(grader))
        .replace("@TORCH@", torch_version)
        .replace("@EXERCISES@", _exercise_options(module, exercises))
    )
