"""Shared fixtures: the repository's module, one warm zygote for the whole session, and a
way to grade a piece of learner code written to a temporary folder."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers import REPO

SANDBOX = "the Linux sandbox's own guarantees (namespaces, cgroups, seccomp, uids, /proc)"
BATCH = "batch grading needs every Linux isolation level (elsewhere it refuses, exit 2)"
# Test files that cannot run on macOS or Windows, and why (CI runs them on ubuntu only).
LINUX_ONLY = {
    **dict.fromkeys(
        ("test_sandbox.py", "test_isolation_levels.py", "test_resource_groups.py"), SANDBOX
    ),
    **dict.fromkeys(("test_kernel_objects.py", "test_hostile_replies.py"), SANDBOX),
    **dict.fromkeys(("test_runner_signals.py", "test_grader_death.py", "test_view.py"), SANDBOX),
    **dict.fromkeys(("test_batch.py", "test_batch_files.py", "test_hostile_class.py"), BATCH),
    **dict.fromkeys(("test_cluster.py", "test_gradescope_bundle.py"), BATCH),
    "test_quiz_pty.py": "a POSIX pseudo-terminal (pexpect)",
}
# Of those, the files whose tests hold under the portable backend too, on Linux (Linux-only for
# the host's sake): under COURSE_SANDBOX=portable only their tests marked `needs_sandbox`
# (with the isolation feature they need) are skipped.
PORTABLE_TOO = {"test_runner_signals.py", "test_grader_death.py", "test_hostile_replies.py"}
PORTABLE_TOO |= {"test_batch.py", "test_batch_files.py", "test_hostile_class.py"}  # *BATCH
PORTABLE_TOO |= {"test_quiz_pty.py"}  # the quiz in a terminal grades nothing
# Files whose tests follow processes through /proc and POSIX process groups (killpg): they run
# under either backend on Linux, and nowhere else.
PROCFS = "processes followed through /proc and POSIX process groups"
LINUX_HOST = dict.fromkeys(
    ("test_watch.py", "test_hints.py", "test_workspace_links.py", "test_channel.py"), PROCFS
)


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    """Leave out the Linux-only test files on other systems (named in the header)."""
    linux_only = collection_path.name in LINUX_ONLY or collection_path.name in LINUX_HOST
    return True if sys.platform != "linux" and linux_only else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under COURSE_SANDBOX=portable, the tests of the Linux sandbox's own guarantees (their
    file's, or the feature their `needs_sandbox` mark names) are skipped, saying why."""
    if os.environ.get("COURSE_SANDBOX") != "portable":
        return
    for item in items:
        mark = item.get_closest_marker("needs_sandbox")
        why = mark.args[0] if mark else None
        if item.path.name not in PORTABLE_TOO:
            why = why or LINUX_ONLY.get(item.path.name)
        if why:
            reason = f"COURSE_SANDBOX=portable: {why}, which the portable backend does not claim"
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_report_header() -> list[str]:
    if sys.platform == "linux":
        return []
    files = {**LINUX_ONLY, **LINUX_HOST}
    return [f"not collected on {sys.platform}: {name} ({why})" for name, why in files.items()]


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory, monkeypatch):
    """No test touches the real home or depends on the caller's working directory."""
    monkeypatch.setenv("COURSE_ROOT", str(REPO))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture(scope="session")
def module():
    from courseware.content import load_module

    return load_module(REPO)


@pytest.fixture(scope="session")
def zygote():
    from grader.zygote import Zygote

    z = Zygote.start()
    yield z
    z.close()


@pytest.fixture
def grade_source(module, zygote, tmp_path):
    """grade_source(exercise_id, source, **limits) -> ExerciseResult for that source."""
    from grader.confined.sandbox import Limits
    from grader.grade import GradeOptions, grade

    def run(exercise_id: str, source: str | bytes, **limits):
        ex = module.exercise(exercise_id)
        folder = tmp_path / ex.id
        folder.mkdir(exist_ok=True)
        path = folder / ex.file
        path.write_bytes(source.encode() if isinstance(source, str) else source)
        options = GradeOptions(limits=replace(Limits(), **limits))
        (result,) = grade(module, path, options, zygote=zygote).exercises
        return result

    return run


@pytest.fixture(scope="session")
def installed_course(tmp_path_factory):
    """The course installed from its wheel (not editable) in a venv of its own that reaches
    this environment's packages: an InstalledCourse (the venv's bin folder, the wheel)."""
    from tests.helpers import InstalledCourse, build_wheel, offline_venv, pip_install

    tmp = tmp_path_factory.mktemp("installed")
    wheel = build_wheel(REPO, tmp / "dist")
    bin_dir = offline_venv(tmp / "venv")
    pip_install(bin_dir, str(wheel))
    return InstalledCourse(bin_dir, wheel)


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """A fresh `course init` workspace, the current folder for the test."""
    from click.testing import CliRunner

    from course.cli import main

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(tmp_path / "lstm-course")
    return tmp_path / "lstm-course"
