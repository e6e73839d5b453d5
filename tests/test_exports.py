"""Gradescope's results.json (checked against a schema written from its specification), JUnit
XML (read back with a real JUnit parser), the autograder bundle run end to end in a temporary
/autograder, and the GitHub Classroom workflow."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import junitparser
import yaml
from click.testing import CliRunner

from course.cli import main
from tests.conftest import REPO

SCHEMA = json.loads((REPO / "tests/schemas/gradescope_results.schema.json").read_text())
MISTAKE = REPO / "tests/corpus/01_lstm_network/mistakes/first_step/lstm_network.py"


def test_gradescope_results_follow_the_specification(tmp_path):
    out = tmp_path / "results.json"
    result = CliRunner().invoke(
        main, ["grade", str(MISTAKE), "--format", "gradescope", "-o", str(out)]
    )
    assert result.exit_code == 1
    data = json.loads(out.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["score"] == sum(t["score"] for t in data["tests"]) < 10
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert failed and all(t["visibility"] == "visible" for t in data["tests"])
    assert any("FIRST time step" in t["output"] for t in failed)
    assert not any("CUDA" in t["name"] for t in data["tests"])  # absent devices: not a test


def test_the_schema_rejects_what_gradescope_would(tmp_path):
    bad = {"score": 1, "tests": [{"name": "x", "status": "ok"}]}
    try:
        jsonschema.validate(bad, SCHEMA)
    except jsonschema.ValidationError as exc:
        assert "'ok' is not one of" in exc.message
    else:
        raise AssertionError("the schema accepted an unknown status")


def test_junit_xml_reads_back(tmp_path):
    out = tmp_path / "report.xml"
    result = CliRunner().invoke(main, ["grade", str(MISTAKE), "--format", "junit", "-o", str(out)])
    assert result.exit_code == 1
    xml = junitparser.JUnitXml.fromfile(str(out))
    (suite,) = list(xml)
    assert suite.name.startswith("01_lstm_network")
    cases = list(suite)
    assert suite.tests == len(cases) and suite.failures >= 1
    failures = [c for c in cases if c.result and isinstance(c.result[0], junitparser.Failure)]
    assert any("FIRST time step" in f.result[0].text for f in failures)
    assert any(c.is_passed for c in cases)


def unpack_bundle(tmp_path, *args: str) -> Path:
    """`course export gradescope` unpacked as Gradescope lays it out, in tmp_path/autograder."""
    bundle = tmp_path / "autograder.zip"
    result = CliRunner().invoke(main, ["export", "gradescope", "-o", str(bundle), *args])
    assert result.exit_code == 0, result.output
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "course.yaml"} <= names
        assert "grader/checks/check_01_lstm_network.py" in names
        assert not any(n.startswith("tests/") for n in names)
        zf.extractall(root / "source")
    shutil.copy(root / "source/run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    return root


def run_autograder(root: Path, python: str = sys.executable) -> dict:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "COURSE_PYTHON": python}
    env.pop("COURSE_ROOT")
    run = subprocess.run(
        ["bash", str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=300
    )
    data = json.loads((root / "results/results.json").read_text())
    jsonschema.validate(data, SCHEMA)
    return {**data, "returncode": run.returncode}


def test_gradescope_bundle_runs_end_to_end_on_the_exercises_it_counts(tmp_path):
    root = unpack_bundle(
        tmp_path, "--exercise", "02_training_step", "--exercise", "01_lstm_network"
    )
    shutil.copy(REPO / "solutions/02_training_step/training.py", root / "submission")
    shutil.copy(MISTAKE, root / "submission")
    data = run_autograder(root)
    assert data["returncode"] == 0
    assert 10 <= data["score"] < 20  # training.py full marks, the network not
    assert {t["name"][:2] for t in data["tests"]} == {"01", "02"}  # not out of 50


def test_run_autograder_always_writes_results(tmp_path):
    root = unpack_bundle(tmp_path)
    (root / "results").mkdir()
    (root / "results/results.json").write_text('{"score": 50}')  # a stale one is never kept
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\nexit 3\n")  # Python cannot even start
    broken.chmod(0o755)
    data = run_autograder(root, python=str(broken))
    assert data["score"] == 0 and "not your fault" in data["output"]
    assert data["returncode"] == 3


def test_gradescope_results_say_why_nothing_was_graded(tmp_path):
    submission = tmp_path / "submission"
    for folder in ("a", "b"):
        (submission / folder).mkdir(parents=True)
        shutil.copy(MISTAKE, submission / folder)
    out = tmp_path / "results.json"
    result = CliRunner().invoke(
        main, ["grade", str(submission), "--format", "gradescope", "-o", str(out)]
    )
    assert result.exit_code == 2 and "found 2 files named lstm_network.py" in result.output
    data = json.loads(out.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["score"] == 0 and "found 2 files named lstm_network.py" in data["output"]


def test_an_internal_error_still_writes_results_and_prints_no_traceback(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("checker bug \ud800\x1b[2J")

    monkeypatch.setattr("grader.grade.grade", broken)
    out = tmp_path / "results.json"
    result = CliRunner().invoke(
        main, ["grade", str(MISTAKE), "--format", "gradescope", "-o", str(out)]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "not your fault" in result.output and "\x1b" not in result.output
    data = json.loads(out.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["score"] == 0 and "not your fault" in data["output"]
    assert data["tests"] and all(t["status"] == "failed" and not t["score"] for t in data["tests"])


def run_step(workflow: dict, name: str, cwd, tmp_path) -> subprocess.CompletedProcess:
    """Run a workflow step's script as GitHub runs it (bash -eo pipefail), with `course`, a
    `sudo` that just runs its command (we are root) and GITHUB_OUTPUT."""
    (job,) = workflow["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("name") == name]
    shims = tmp_path / "bin"
    shims.mkdir(exist_ok=True)
    (shims / "sudo").write_text('#!/bin/sh\n[ "$1" = -E ] && shift\nexec "$@"\n')
    (shims / "sudo").chmod(0o755)
    (tmp_path / "github_output").write_text("")
    env = {
        **os.environ,
        "PATH": f"{shims}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def reported(tmp_path) -> dict:
    """What Classroom's reporter reads: the Grade step's `result` output, base64 JSON."""
    (line,) = (tmp_path / "github_output").read_text().splitlines()
    return json.loads(base64.b64decode(line.removeprefix("result=")))


def export_classroom(tmp_path, *args: str) -> Path:
    template = tmp_path / "template"
    result = CliRunner().invoke(
        main, ["export", "classroom", "-o", str(template), "--grader", GRADER_URL, *args]
    )
    assert result.exit_code == 0, result.output
    return template


GRADER_URL = "git+https://git.example.edu/course/lstm-grader@2026"


def test_classroom_template_holds_no_reference_and_no_check(tmp_path, module):
    template = export_classroom(tmp_path)
    files = {p.relative_to(template).as_posix() for p in template.rglob("*") if p.is_file()}
    assert ".github/workflows/classroom.yml" in files
    assert {f"exercises/{e.id}/{e.file}" for e in module.exercises} <= files
    assert any(f.startswith("lesson/") for f in files) and any(
        f.startswith("quizzes/") for f in files
    )
    assert not any(f.startswith(("solutions/", "grader/", "tests/")) for f in files)
    references = {e.solution.read_bytes() for e in module.exercises}
    checks = {e.check.read_bytes() for e in module.exercises}
    for path in template.rglob("*"):
        assert not path.is_file() or path.read_bytes() not in references | checks, path
    workflow = yaml.safe_load((template / ".github/workflows/classroom.yml").read_text())
    assert workflow[True] == ["push", "workflow_dispatch"]  # PyYAML reads the key `on` as True
    (job,) = workflow["jobs"].values()
    assert job["name"] == "Autograding Tests"  # the check run Classroom's reporter updates
    install = next(s["run"] for s in job["steps"] if s.get("name") == "Install the grader")
    assert f"pip install {GRADER_URL}" in install and "pip install -e" not in install
    reporter = job["steps"][-1]
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter@")
    assert reporter["with"]["runners"] == "grade"
    assert reporter["env"]["GRADE_RESULTS"] == "${{ steps.grade.outputs.result }}"


def test_classroom_workflow_reports_points_and_fails_below_full_marks(tmp_path, module):
    template = export_classroom(tmp_path, "--exercise", "01_lstm_network")
    workflow = yaml.safe_load((template / ".github/workflows/classroom.yml").read_text())
    shutil.copy(module.exercise("01_lstm_network").solution, template / "exercises/01_lstm_network")
    assert run_step(workflow, "Grade", template, tmp_path).returncode == 0
    full = reported(tmp_path)
    assert full["status"] == "pass" and full["max_score"] == 10
    assert sum(t["score"] for t in full["tests"]) == 10
    shutil.copy(MISTAKE, template / "exercises/01_lstm_network")
    assert run_step(workflow, "Grade", template, tmp_path).returncode == 0
    below = reported(tmp_path)
    assert below["status"] == "fail"  # the reporter fails the job on it
    assert sum(t["score"] for t in below["tests"]) < 10
    failed = [t for t in below["tests"] if t["status"] == "fail"]
    assert any("FIRST time step" in t["message"] for t in failed)


def test_classroom_export_refuses_a_folder_in_use(tmp_path):
    (tmp_path / "template").mkdir()
    (tmp_path / "template" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(
        main, ["export", "classroom", "-o", str(tmp_path / "template"), "--grader", GRADER_URL]
    )
    assert result.exit_code == 2 and (tmp_path / "template/notes.txt").read_text() == "mine"
