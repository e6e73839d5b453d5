"""Shared fixtures: the repository's module, one warm zygote for the whole session, and a
way to grade a piece of learner code written to a temporary folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


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
    from grader.grade import GradeOptions, grade
    from grader.sandbox import Limits

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


def solution(module, exercise_id: str) -> str:
    return module.exercise(exercise_id).solution.read_text()


def failed_messages(result) -> str:
    return "\n".join(c.message for c in result.checks if c.state != "passed")
