"""The GitHub Classroom template as a learner gets it and as GitHub runs its workflow.

The workflow's grading step (everything after the install) runs as GitHub runs a step (bash
-eo pipefail, GITHUB_OUTPUT, a `sudo` that just runs its command since we are root) in a copy
of the template repository, with the course installed from its wheel: the installed package's
content and checks grade, whatever the learner's repository holds besides the exercise files.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from course.cli import main
from courseware import __version__
from tests.helpers import REPO, needs_posix_shell

pytestmark = pytest.mark.slow
GRADER_URL = "git+https://git.example.edu/course/lstm-grader@2026"
MISTAKE = REPO / "tests/corpus/01_lstm_network/mistakes/first_step/lstm_network.py"
WORKFLOW = ".github/workflows/classroom.yml"


def export_classroom(tmp_path: Path, *args: str) -> Path:
    template = tmp_path / "template"
    result = CliRunner().invoke(
        main, ["export", "classroom", "-o", str(template), "--grader", GRADER_URL, *args]
    )
    assert result.exit_code == 0, result.output
    return template


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSE_ROOT", str(REPO))
        return export_classroom(tmp_path_factory.mktemp("classroom"))


def learner_repository(template: Path, folder: Path, files: dict[str, Path]) -> Path:
    """A learner's repository made from the template, with `files` (exercise files) in it."""
    shutil.copytree(template, folder)
    for ex_id, source in files.items():
        (target,) = (folder / "exercises" / ex_id).glob("*.py")
        shutil.copy(source, target)
    return folder


def run_grade_step(repo: Path, installed, tmp_path: Path) -> subprocess.CompletedProcess:
    """The workflow's Grade step, run in `repo` as GitHub runs it."""
    workflow = yaml.safe_load((repo / WORKFLOW).read_text())
    (job,) = workflow["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("name") == "Grade"]
    shims = tmp_path / "bin"
    shims.mkdir(exist_ok=True)
    (shims / "sudo").write_text('#!/bin/sh\n[ "$1" = -E ] && shift\nexec "$@"\n')
    (shims / "sudo").chmod(0o755)
    (tmp_path / "github_output").write_text("")
    env = installed.env(GITHUB_OUTPUT=str(tmp_path / "github_output"))
    env["PATH"] = f"{shims}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def reported(tmp_path: Path) -> dict:
    """What Classroom's reporter reads: the Grade step's `result` output, base64 JSON."""
    (line,) = (tmp_path / "github_output").read_text().splitlines()
    return json.loads(base64.b64decode(line.removeprefix("result=")))


def graded(repo: Path, installed, tmp_path: Path) -> dict:
    run = run_grade_step(repo, installed, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    return reported(tmp_path)


def verdicts(result: dict) -> list[tuple]:
    return [(t["name"], t["status"], t["score"]) for t in result["tests"]]


# ------------------------------------------------------------------ the template


def test_the_template_holds_no_reference_and_no_check(template, module):
    files = {p.relative_to(template).as_posix() for p in template.rglob("*") if p.is_file()}
    assert WORKFLOW in files and "README.md" in files
    assert {f"exercises/{e.id}/{e.file}" for e in module.exercises} <= files
    assert any(f.startswith("lesson/") for f in files)
    assert any(f.startswith("quizzes/") for f in files)
    assert not any(f.startswith(("solutions/", "grader/", "tests/")) for f in files)
    references = {e.solution.read_bytes() for e in module.exercises}
    checks = {e.check.read_bytes() for e in module.exercises}
    for path in template.rglob("*"):
        assert not path.is_file() or path.read_bytes() not in references | checks, path


def test_the_workflow_installs_the_grader_and_reports_with_classroom(template):
    workflow = yaml.safe_load((template / WORKFLOW).read_text())
    assert workflow[True] == ["push", "workflow_dispatch"]  # PyYAML reads the key `on` as True
    (job,) = workflow["jobs"].values()
    assert job["name"] == "Autograding Tests"  # the check run Classroom's reporter updates
    install = next(s["run"] for s in job["steps"] if s.get("name") == "Install the grader")
    assert f"pip install {GRADER_URL}" in install and "pip install -e" not in install
    reporter = job["steps"][-1]
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter@")
    assert reporter["with"]["runners"] == "grade"
    assert reporter["env"]["GRADE_RESULTS"] == "${{ steps.grade.outputs.result }}"


def test_the_readme_says_how_to_install_the_course_then_its_commands(template):
    readme = (template / "README.md").read_text()
    install = readme.index(f"pip install {GRADER_URL}\n")
    commands = re.findall(r"^course ([a-z]+)", readme, re.M)
    assert install < readme.index("\ncourse grade") and {"grade", "watch", "quiz"} <= set(commands)
    for command in commands:  # each one a command the installed course knows
        assert CliRunner().invoke(main, [command, "--help"]).exit_code == 0, command


def test_the_template_carries_the_released_starters(template, module):
    for ex in module.exercises:
        assert (template / "exercises" / ex.id / ex.file).read_text() == ex.starter.text


# ------------------------------------------------------------------ the workflow's grading


@needs_posix_shell  # the Grade step runs in bash (GitHub's ubuntu)
def test_the_solutions_get_full_marks(template, module, installed_course, tmp_path):
    solutions = {ex.id: ex.solution for ex in module.exercises}
    result = graded(learner_repository(template, tmp_path / "repo", solutions), installed_course,
                    tmp_path)  # fmt: skip
    assert result["status"] == "pass"
    full = sum(ex.points for ex in module.exercises)
    assert result["max_score"] == sum(t["score"] for t in result["tests"]) == full


@needs_posix_shell  # the Grade step runs in bash (GitHub's ubuntu)
def test_the_starters_get_nothing(template, module, installed_course, tmp_path):
    result = graded(learner_repository(template, tmp_path / "repo", {}), installed_course,
                    tmp_path)  # fmt: skip
    assert result["status"] == "fail"  # the reporter fails the job on it
    full = sum(ex.points for ex in module.exercises)
    assert result["max_score"] == full and sum(t["score"] for t in result["tests"]) == 0


@needs_posix_shell  # the Grade step runs in bash (GitHub's ubuntu)
def test_a_file_that_does_not_parse_gets_nothing_and_the_reason(template, installed_course,
                                                                tmp_path):  # fmt: skip
    broken = tmp_path / "lstm_network.py"
    broken.write_text("class LSTMNetwork(nn.Module:\n    pass\n")
    repo = learner_repository(template, tmp_path / "repo", {"01_lstm_network": broken})
    result = graded(repo, installed_course, tmp_path)
    assert result["status"] == "fail" and sum(t["score"] for t in result["tests"]) == 0
    first = result["tests"][0]
    assert first["name"].startswith("01_lstm_network") and first["status"] == "fail"
    assert "lstm_network.py line 1: SyntaxError" in first["message"], first


@needs_posix_shell  # the Grade step runs in bash (GitHub's ubuntu)
def test_a_repository_with_its_own_course_still_gets_the_course_s_grade(
    template, module, installed_course, tmp_path
):
    """The learner adds a course of their own that would pass anything: a course.yaml, checks
    that always pass, their file as the reference and as the approved starter, a workspace
    marker, pytest configuration and a sitecustomize; and links an exercise file to the
    installed reference. The grade is the course's own, as for the file alone."""
    files = {"01_lstm_network": MISTAKE, "05_vanishing_gradients": solution("05")}
    expected = graded(learner_repository(template, tmp_path / "honest", files), installed_course,
                      tmp_path)  # fmt: skip
    hostile = learner_repository(template, tmp_path / "hostile", files)
    forge_a_course(hostile, module, installed_course)
    result = graded(hostile, installed_course, tmp_path)
    training = [v for v in verdicts(result) if v[0].startswith("02_")]
    assert all(score == 0 for _, _, score in training), training  # the link: refused
    others = [v for v in verdicts(result) if not v[0].startswith("02_")]
    assert others == [v for v in verdicts(expected) if not v[0].startswith("02_")]
    assert sum(t["score"] for t in result["tests"]) == 8 and result["status"] == "fail"
    assert any("FIRST time step" in t["message"] for t in result["tests"])


def solution(number: str) -> Path:
    (path,) = (REPO / "solutions").glob(f"{number}_*/*.py")
    return path


def forge_a_course(repo: Path, module, installed) -> None:
    """Everything a learner could add to their repository to pass without solving."""
    shutil.copy(REPO / "course.yaml", repo / "course.yaml")
    shutil.copy(REPO / "starters.lock", repo / "starters.lock")
    (repo / "grader/checks").mkdir(parents=True)
    for ex in module.exercises:
        (repo / f"grader/checks/check_{ex.id}.py").write_text(ALWAYS_PASSES.format(ex.points))
        (repo / "solutions" / ex.id).mkdir(parents=True)
        shutil.copy(MISTAKE, repo / "solutions" / ex.id / ex.file)
    (repo / ".course-workspace").write_text('{"format_version": 1, "files": {}}\n')
    (repo / "conftest.py").write_text(FORCE_PASS)
    (repo / "pytest.ini").write_text("[pytest]\naddopts = -p no:terminal\n")
    (repo / "sitecustomize.py").write_text("import os\nos.environ['COURSE_ROOT'] = os.getcwd()\n")
    (repo / "courseware").mkdir()  # the installed package's twin, first where cwd is on sys.path
    (repo / "courseware/__init__.py").write_text(f"__version__ = {__version__!r}\n")
    (repo / "courseware/content.py").write_text(f"PACKAGED = {str(repo)!r}\n")
    (site,) = installed.bin.parent.glob("lib/python*/site-packages")
    training = repo / "exercises/02_training_step/training.py"
    training.unlink()
    training.symlink_to(site / "courseware/data/solutions/02_training_step/training.py")


ALWAYS_PASSES = "import pytest\n\n@pytest.mark.points({})\ndef test_anything():\n    pass\n"
FORCE_PASS = """import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""


@needs_posix_shell  # the Grade step runs in bash (GitHub's ubuntu)
def test_the_workflow_refuses_a_grader_of_another_version(template, installed_course, tmp_path):
    repo = learner_repository(template, tmp_path / "repo", {})
    workflow = repo / WORKFLOW
    workflow.write_text(re.sub(r"expected=\S+", "expected=9.9.9", workflow.read_text()))
    run = run_grade_step(repo, installed_course, tmp_path)
    assert run.returncode == 1 and "::error::" in run.stderr and "9.9.9" in run.stderr
    assert (tmp_path / "github_output").read_text() == ""  # no points reported


# ------------------------------------------------------------------ the export itself


def test_the_export_refuses_a_folder_in_use(tmp_path):
    (tmp_path / "template").mkdir()
    (tmp_path / "template" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(
        main, ["export", "classroom", "-o", str(tmp_path / "template"), "--grader", GRADER_URL]
    )
    assert result.exit_code == 2 and (tmp_path / "template/notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "requirement", ["./dist/lstm_course.whl", "/srv/course.whl", "-r requirements.txt",
                    "file:///srv/course.whl", "~/course", "C:\\course.whl"],
)  # fmt: skip
def test_the_export_refuses_a_grader_from_a_path(tmp_path, requirement):
    out = tmp_path / "template"
    result = CliRunner().invoke(
        main, ["export", "classroom", "-o", str(out), "--grader", requirement]
    )
    assert result.exit_code == 2 and "not a path or an option" in result.output
    assert not out.exists()


def test_a_failed_export_leaves_nothing_behind(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copytree", full)  # the lesson, after the workspace
    out = tmp_path / "classes" / "template"
    result = CliRunner().invoke(
        main, ["export", "classroom", "-o", str(out), "--grader", GRADER_URL]
    )
    assert result.exit_code == 2 and "cannot write the template" in result.output
    assert list((tmp_path / "classes").iterdir()) == []  # no template, no half-built one


def test_an_empty_folder_is_filled_in_one_step(tmp_path):
    out = tmp_path / "template"
    out.mkdir()
    template = export_classroom(tmp_path)
    assert template == out and (out / WORKFLOW).is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["template"]
