"""`course export`: the grader packaged for the platforms instructors use.

`course export gradescope`: the autograder zip Gradescope builds its image from.
`course export classroom`: the workflow and README of a GitHub Classroom template (the template
itself is a `course init` workspace, laid out by the course layer).

Both take the module as released: the course's wheel (built from a clone by its own build
hook, which writes the approved starters of starters.lock, or the installed package itself),
never the exporter's working tree. The grading on either platform reads the content and checks
of that installed package (COURSE_ROOT set to its data), and of the learner only the files.

Gradescope unpacks the zip into /autograder/source, runs setup.sh once, then run_autograder for
each submission, which must write /autograder/results/results.json. Our run_autograder is one
`course grade` call: the same checks, sandbox and messages as on a learner's machine.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import shlex
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from courseware.content import PACKAGED, Module
from courseware.errors import CourseError
from courseware.files import write_atomically

SETUP = """#!/usr/bin/env bash
# Runs once, as root, when Gradescope builds the autograder image: a venv with a CPU build of
# torch and the course's wheel (its content, references and checks inside), nothing else.
#
# Offline (the course's own tests, or an image that already holds the packages): set
# COURSE_OFFLINE_SITE to a site-packages folder of this python3 that holds torch, pip and the
# course's dependencies. The venv then reads that folder (a .pth file), nothing is downloaded,
# and `pip check` proves every dependency is there. Gradescope sets nothing: the default path.
set -euo pipefail
cd /autograder/source
VENV=/autograder/venv
WHEEL=/autograder/source/@WHEEL@
if [ -n "${COURSE_OFFLINE_SITE:-}" ]; then
    python3 -m venv --without-pip "$VENV"
    SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    printf '%s\\n' "$COURSE_OFFLINE_SITE" > "$SITE/course_offline_site.pth"
    "$VENV/bin/python" -m pip install --no-index --no-deps "$WHEEL"
    "$VENV/bin/python" -m pip check
else
    if ! python3 -m venv "$VENV"; then
        # Debian and Ubuntu ship venv's pip apart: installed only where it is missing.
        rm -rf "$VENV"
        apt-get update
        apt-get install -y --no-install-recommends python3-venv
        python3 -m venv "$VENV"
    fi
    # A CPU build of torch first: no GPU there, and PyPI's default build is gigabytes of CUDA.
    "$VENV/bin/python" -m pip install --no-cache-dir "torch==@TORCH@" \\
        --index-url https://download.pytorch.org/whl/cpu
    "$VENV/bin/python" -m pip install --no-cache-dir "$WHEEL"
fi
# Where the container refuses namespaces, the runner is another user that sees the disk: file
# permissions alone keep the references and checks from it (each report lists any it could
# read): the installed content, and the wheel that carries it, are root's alone.
DATA="$("$VENV/bin/python" -I -c 'from courseware.content import PACKAGED; print(PACKAGED)')"
test -f "$DATA/course.yaml"
chmod 711 /autograder
chmod -R go-rwx /autograder/source "$DATA"
"""

RUN = """#!/usr/bin/env bash
# Grades /autograder/submission into /autograder/results/results.json (Gradescope's contract)
# with the content and checks of the course installed by setup.sh (Python isolated, -I: nothing
# of the submission is on its path): the file is always written,
# by `course grade` (even when it cannot grade, with the reason) or, when Python itself cannot
# start, by this script. AUTOGRADER_ROOT moves /autograder and COURSE_PYTHON picks the
# interpreter (both for tests).
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${COURSE_PYTHON:-$ROOT/venv/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
cd "$ROOT"  # the learner's files are then named submission/FILE, never ../submission/FILE
DATA="$("$PYTHON" -I -c 'from courseware.content import PACKAGED; print(PACKAGED)')"
status=$?
if [ "$status" -eq 0 ]; then
    COURSE_ROOT="$DATA" "$PYTHON" -I -m course grade "$ROOT/submission" \\
        --device cpu @EXERCISES@--format gradescope -o "$RESULTS"
    status=$?
fi
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
EXECUTABLE = 0o755 << 16  # a zip entry's mode, as unzip restores it


def gradescope_bundle(
    module: Module, output: Path, torch_version: str, exercises: tuple[str, ...] = ()
) -> list[str]:
    """Write the autograder zip, counting `exercises` (default: all); return its names."""
    with tempfile.TemporaryDirectory(prefix="course-wheel-") as folder:
        wheel = release_wheel(module, Path(folder))
        setup = SETUP.replace("@WHEEL@", wheel.name).replace("@TORCH@", torch_version)
        run = RUN.replace("@EXERCISES@", _exercise_options(module, exercises))
        run = run.replace("@FALLBACK@", json.dumps(FALLBACK))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, text in (("setup.sh", setup), ("run_autograder", run)):
                info = zipfile.ZipInfo(name)
                info.external_attr = EXECUTABLE
                zf.writestr(info, text)
            zf.write(wheel, wheel.name)
            names = zf.namelist()
    write_atomically(output, buffer.getvalue())
    return names


def release_wheel(module: Module, folder: Path) -> Path:
    """The course's wheel, written into `folder`: built from the course's source when the
    module is a clone (its build hook takes the starters from starters.lock), else the
    installed package packed again, file for file."""
    if (module.root / "pyproject.toml").is_file():
        return _build_wheel(module.root, folder)
    if module.root == PACKAGED:
        return _repack_installed(folder)
    raise CourseError(NO_RELEASE.format(root=module.root))


def _build_wheel(root: Path, folder: Path) -> Path:
    """`pip wheel --no-deps` of the clone; offline where its build backend is importable."""
    offline = all(importlib.util.find_spec(m) for m in ("hatchling", "yaml"))
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder)]
    argv += ["--no-build-isolation"] if offline else []
    try:
        run = subprocess.run(
            [*argv, str(root)], capture_output=True, text=True, timeout=600, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CourseError(BUILD_FAILED.format(root=root, why=exc)) from None
    wheels = sorted(folder.glob("*.whl"))
    if run.returncode != 0 or len(wheels) != 1:
        why = (run.stderr or run.stdout).strip()[-2000:] or f"pip exited with {run.returncode}"
        raise CourseError(BUILD_FAILED.format(root=root, why=why))
    return wheels[0]


def _repack_installed(folder: Path) -> Path:
    """The installed distribution that holds `courseware`, as the wheel it was installed
    from: its files (console scripts and byte code aside, which pip makes) and a new RECORD."""
    names = metadata.packages_distributions().get("courseware") or []
    if not names:
        raise CourseError(NO_RELEASE.format(root=PACKAGED))
    dist = metadata.distribution(names[0])
    files = sorted(dist.files or [], key=str)
    info = next((f.parts[0] for f in files if f.parts[0].endswith(".dist-info")), "")
    wheel = folder / f"{info.removesuffix('.dist-info')}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in files:
            if not _released(file.parts, info):
                continue
            data = Path(dist.locate_file(file)).read_bytes()
            zf.writestr(file.as_posix(), data)
            record.append(f"{file.as_posix()},sha256={_digest(data)},{len(data)}")
        record.append(f"{info}/RECORD,,")
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def _released(parts: tuple[str, ...], info: str) -> bool:
    """Whether an installed file came from the wheel (not pip's own additions)."""
    if parts[0] == ".." or "__pycache__" in parts or parts[-1].endswith(".pyc"):
        return False
    return not (parts[0] == info and parts[-1] in INSTALLER_FILES)


INSTALLER_FILES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


NO_RELEASE = (
    "{root} is neither the course's source (it has no pyproject.toml) nor the installed "
    "course package, so there is no release of it to export. Run `course export` in a clone "
    "of the course, or with the course installed from its wheel and COURSE_ROOT unset."
)
BUILD_FAILED = (
    "cannot build the course's wheel from {root}, which the export carries:\n{why}\n"
    "Check that `pip wheel --no-deps {root}` works there, then export again."
)


def _exercise_options(module: Module, exercises: tuple[str, ...]) -> str:
    """`--exercise ID ` for each chosen exercise (checked: an unknown id is an error)."""
    return "".join(f"--exercise {shlex.quote(module.exercise(e).id)} " for e in exercises)


CLASSROOM_WORKFLOW = ".github/workflows/classroom.yml"
WORKFLOW = """# GitHub Classroom autograding, written by `course export classroom`.
# On each push it installs the grader from the instructor's location (@GRADER@), copies
# only the exercise files of this repository into an empty folder, grades them with the content
# and checks of the installed course (version @VERSION@) and the same sandbox as
# `course grade`, and reports the points to GitHub Classroom. Nothing else in this repository
# (a course.yaml, checks, a conftest.py) takes part in the grade.
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
        # Outside the repository, with Python isolated (-I: no current folder on sys.path): no
        # file of the learner's (a pip/ or courseware/ folder, a wheel) takes part.
        run: |
          cd "$RUNNER_TEMP"
          python -I -m pip install --upgrade pip
          python -I -m pip install "torch==@TORCH@" --index-url https://download.pytorch.org/whl/cpu
          python -I -m pip install @GRADER_ARG@
      - name: Grade
        id: grade
        # sudo: the full sandbox (namespaces, another user) needs root; it still grades without.
        run: |
          expected=@VERSION_ARG@  # the course's version this template was exported from
          version="$(python -I -c 'import courseware; print(courseware.__version__)')"
          if [ "$version" != "$expected" ]; then
            echo "::error::the grader installed course $version; this template needs" \\
              "$expected. Export the template again, or pin the grader at $expected." >&2
            exit 1
          fi
          course_root="$(python -I -c 'from courseware.content import PACKAGED; print(PACKAGED)')"
          work="$(mktemp -d)"
          mkdir "$work/exercises"
          for file in @FILES@; do
            if [ -f "$file" ] || [ -L "$file" ]; then  # a link is copied as one: refused
              mkdir -p "$work/$(dirname "$file")"
              cp -P "$file" "$work/$file"
            fi
          done
          cd "$work"
          sudo -E env "PATH=$PATH" "COURSE_ROOT=$course_root" course grade exercises/ \\
            --device cpu @EXERCISES@--format classroom -o classroom.json || true
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
    grade the learner's exercise files (and nothing else of their repository) with the
    installed course's content, report the points with Classroom's reporter."""
    from courseware import __version__

    chosen = [module.exercise(e) for e in exercises] or module.exercises
    files = " ".join(shlex.quote(f"exercises/{ex.id}/{ex.file}") for ex in chosen)
    return (
        WORKFLOW.replace("@GRADER_ARG@", shlex.quote(grader))
        .replace("@GRADER@", grader)
        .replace("@TORCH@", torch_version)
        .replace("@VERSION_ARG@", shlex.quote(__version__))
        .replace("@VERSION@", __version__)
        .replace("@FILES@", files)
        .replace("@EXERCISES@", _exercise_options(module, exercises))
    )


CLASSROOM_README = """\
# {title}

Your copy of the assignment. Your work goes in `exercises/`: one folder per exercise, with its
statement (`README.md`) and the file you edit in place.

## Install the course, once

With Python 3.10 or newer, in this folder:

```bash
python3 -m venv .venv
source .venv/bin/activate          # Windows: .venv\\Scripts\\activate
pip install torch --index-url https://download.pytorch.org/whl/cpu
pip install {requirement}
```

The first `pip install` takes a CPU build of torch (smaller; the course needs no GPU).

## Work

```bash
course build                       # the lesson: open _site/index.html
course quiz                        # the quiz, in the terminal
course grade                       # every exercise; `course grade exercises/{first}` for one
course grade --hints               # the next hint of each exercise not yet passing
course watch                       # grades again at every save; h hint, n next, q quit
course progress                    # where you are
```

## Hand in

Commit and push. Each push is graded on GitHub by the same checks ("Autograding Tests" under
Actions) and the points appear in GitHub Classroom. Only the exercise files
(`exercises/NN_slug/FILE`) are graded; anything else you add to the repository is ignored.
"""


def classroom_readme(module: Module, grader: str) -> str:
    """The template's README: how to install the course (the exact command), then work."""
    return CLASSROOM_README.format(
        title=module.info.title, requirement=shlex.quote(grader), first=module.exercises[0].id
    )
