"""The Gradescope bundle run as Gradescope runs it: `course export gradescope`, unpacked into
/autograder/source, its setup.sh run once (as root), run_autograder copied to
/autograder/run_autograder, a submission in /autograder/submission, results read from
/autograder/results/results.json and checked against Gradescope's specification.

/autograder exists only inside a private mount namespace: a tmpfs root holding the host's
top-level folders and a temporary folder bound on /autograder, entered with pivot_root (as the
sandbox inside it uses pivot_root too, a chroot would not do). The host's / is never touched.
setup.sh runs offline (COURSE_OFFLINE_SITE: this environment's packages, torch included),
once for the module; each submission is graded in a namespace of its own on that install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from course.cli import main
from courseware import __version__
from courseware.content import load_module
from tests.helpers import REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("pivot_root"),
        reason="needs root, unshare and pivot_root to lay out /autograder in a mount namespace",
    ),
]
SCHEMA = json.loads((REPO / "tests/schemas/gradescope_results.schema.json").read_text())
MODULE = load_module(REPO)
FULL_MARKS = sum(ex.points for ex in MODULE.exercises)

# Runs COMMAND with a tmpfs as / holding the host's top-level folders, and AUTOGRADER on
# /autograder. Arguments: NEW (an empty folder to mount the tmpfs on), AUTOGRADER, COMMAND...
IN_AUTOGRADER = r"""
set -euo pipefail
new="$1"; autograder="$2"; shift 2
mount -t tmpfs -o mode=755 autograder-test "$new"
for entry in /*; do
    name="${entry#/}"
    if [ -L "$entry" ]; then ln -s "$(readlink "$entry")" "$new/$name"
    elif [ -d "$entry" ]; then mkdir "$new/$name"; mount --rbind "$entry" "$new/$name"
    fi
done
mkdir "$new/autograder"
mount --bind "$autograder" "$new/autograder"
mkdir "$new/.old"
cd "$new"
pivot_root . .old
umount -l /.old
rmdir /.old
cd /
exec "$@"
"""


def in_autograder(folder: Path, *command: str, **env: str) -> subprocess.CompletedProcess:
    """Run `command` where `folder` is /autograder, in a mount namespace of its own."""
    root = folder.parent / f"{folder.name}-root"
    root.mkdir(exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if k != "COURSE_ROOT"}  # data dir kept
    environ.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **env)
    return subprocess.run(
        ["unshare", "--mount", "bash", "-c", IN_AUTOGRADER, "in_autograder", str(root),
         str(folder), *command],
        env=environ, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def export_bundle(tmp_path: Path, *args: str) -> Path:
    bundle = tmp_path / "autograder.zip"
    result = CliRunner().invoke(main, ["export", "gradescope", "-o", str(bundle), *args])
    assert result.exit_code == 0, result.output
    return bundle


def unzip(bundle: Path, folder: Path) -> None:
    """Extract as `unzip` does, with each file's mode."""
    with zipfile.ZipFile(bundle) as zf:
        for info in zf.infolist():
            zf.extract(info, folder)
            if mode := info.external_attr >> 16:
                (folder / info.filename).chmod(mode & 0o777)


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    """A /autograder that Gradescope's image build made: the bundle unpacked, setup.sh run."""
    tmp = tmp_path_factory.mktemp("gradescope")
    folder = tmp / "autograder"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSE_ROOT", str(REPO))
        unzip(export_bundle(tmp), folder / "source")
    site = sysconfig.get_paths()["purelib"]
    setup = in_autograder(folder, "/autograder/source/setup.sh", COURSE_OFFLINE_SITE=site)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    return folder


def grade(autograder: Path, files: dict[str, bytes], run_autograder: Path | None = None) -> dict:
    """Gradescope's run of one submission: results.json, validated, and the exit status."""
    shutil.copy(run_autograder or autograder / "source/run_autograder", autograder)
    shutil.rmtree(autograder / "submission", ignore_errors=True)
    (autograder / "submission").mkdir()
    for name, data in files.items():
        (autograder / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (autograder / "submission" / name).write_bytes(data)
    run = in_autograder(autograder, "/autograder/run_autograder")
    data = json.loads((autograder / "results/results.json").read_text())
    jsonschema.validate(data, SCHEMA)
    return {**data, "returncode": run.returncode, "log": run.stdout + run.stderr}


def test_setup_installs_the_wheel_and_leaves_the_references_to_root(autograder):
    assert sorted(p.name for p in (autograder / "source").iterdir()) == [
        f"lstm_course-{__version__}-py3-none-any.whl", "run_autograder", "setup.sh"
    ]  # fmt: skip
    (data,) = (autograder / "venv").glob("lib/python*/site-packages/courseware/data")
    assert (data / "course.yaml").is_file() and (data / "grader/checks").is_dir()
    for path in (autograder / "source", data, data / "solutions"):
        assert path.stat().st_mode & 0o077 == 0, path
    assert (autograder.stat().st_mode & 0o777) == 0o711


def test_the_solutions_get_full_marks(autograder):
    files = {ex.file: ex.solution.read_bytes() for ex in MODULE.exercises}
    data = grade(autograder, files)
    assert data["returncode"] == 0, data["log"]
    assert data["score"] == FULL_MARKS
    assert all(t["status"] == "passed" for t in data["tests"]), data["tests"]


def test_the_starters_get_nothing(autograder):
    files = {ex.file: ex.starter.text.encode() for ex in MODULE.exercises}
    data = grade(autograder, files)
    assert data["returncode"] == 0, data["log"]
    assert data["score"] == 0 and data["tests"]
    assert "not attempted" in json.dumps(data).lower()


def test_a_file_that_does_not_parse_gets_nothing_and_the_reason(autograder):
    data = grade(autograder, {"lstm_network.py": b"class LSTMNetwork(nn.Module:\n    pass\n"})
    assert data["returncode"] == 0, data["log"]
    assert data["score"] == 0
    first = data["tests"][0]
    assert first["name"].startswith("01_lstm_network") and first["status"] == "failed"
    assert "lstm_network.py line 1: SyntaxError" in first["output"], first


def test_a_bundle_for_some_exercises_counts_only_those(autograder, tmp_path):
    bundle = export_bundle(tmp_path, "--exercise", "02_training_step")
    unzip(bundle, tmp_path / "source")
    files = {ex.file: ex.solution.read_bytes() for ex in MODULE.exercises}
    data = grade(autograder, files, run_autograder=tmp_path / "source/run_autograder")
    assert data["returncode"] == 0, data["log"]
    assert data["score"] == MODULE.exercise("02_training_step").points
    assert {t["name"][:2] for t in data["tests"]} == {"02"}


def test_a_submission_with_a_course_of_its_own_gets_the_course_s_grade(autograder):
    """Beside its file, the submission brings a course that would pass anything: a course.yaml
    and starters.lock, checks that always pass, a workspace marker, pytest configuration and a
    twin of the course's package. The grade is the course's own. (A copy of its file as the
    reference would be a second file of that name: refused, as tests/test_exports.py shows.)"""
    mistake = (
        REPO / "tests/corpus/01_lstm_network/mistakes/first_step/lstm_network.py"
    ).read_bytes()
    expected = grade(autograder, {"lstm_network.py": mistake})
    forged = {
        "lstm_network.py": mistake,
        "course.yaml": (REPO / "course.yaml").read_bytes(),
        "starters.lock": (REPO / "starters.lock").read_bytes(),
        ".course-workspace": b'{"format_version": 1, "files": {}}\n',
        "conftest.py": b"import pytest\n\n@pytest.hookimpl(hookwrapper=True)\n"
        b"def pytest_runtest_makereport(item, call):\n"
        b"    (yield).get_result().outcome = 'passed'\n",
        "pytest.ini": b"[pytest]\naddopts = -p no:terminal\n",
        "courseware/__init__.py": f"__version__ = {__version__!r}\n".encode(),
        "courseware/content.py": b"PACKAGED = '/autograder/submission'\n",
        **{f"grader/checks/check_{ex.id}.py": b"def test_anything():\n    pass\n"
           for ex in MODULE.exercises},
    }  # fmt: skip
    data = grade(autograder, forged)
    assert data["returncode"] == 0, data["log"]
    verdicts = [(t["name"], t["status"], t["score"]) for t in data["tests"]]
    assert verdicts == [(t["name"], t["status"], t["score"]) for t in expected["tests"]]
    assert data["score"] == expected["score"] < FULL_MARKS


def test_the_learner_s_files_are_named_from_the_autograder_folder_never_with_dots(autograder):
    """What the learner reads names the files of their submission as submission/..., not by
    a way out of another folder (../submission/...)."""
    network = MODULE.exercise("01_lstm_network").solution.read_bytes()
    training = MODULE.exercise("02_training_step").solution.read_bytes()
    data = grade(autograder, {"work/lstm_network (1).py": network, "work/training.py": training})
    assert data["returncode"] == 0, data["log"]
    texts = json.dumps(data["tests"]) + data["log"]
    assert "../" not in texts, texts
    assert "submission/work/lstm_network (1).py looks like it" in texts
    assert "(submission/work/training.py)" in data["log"]
