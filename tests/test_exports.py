"""Gradescope's results.json (checked against a schema written from its specification), JUnit
XML (read back with a real JUnit parser), the autograder bundle run end to end in a temporary
/autograder, and the GitHub Classroom workflow."""

from __future__ import annotations

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


def test_gradescope_bundle_runs_end_to_end(tmp_path):
    bundle = tmp_path / "autograder.zip"
    result = CliRunner().invoke(main, ["export", "gradescope", "-o", str(bundle)])
    assert result.exit_code == 0, result.output
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        assert {
            "setup.sh",
            "run_autograder",
            "course.yaml",
            "grader/checks/check_01_lstm_network.py",
        } <= names
        assert not any(n.startswith("tests/") for n in names)
        zf.extractall(root / "source")
    shutil.copy(root / "source/run_autograder", root / "run_autograder")
    submission = root / "submission"
    submission.mkdir()
    shutil.copy(REPO / "solutions/02_training_step/training.py", submission)
    shutil.copy(MISTAKE, submission)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "COURSE_PYTHON": sys.executable}
    env.pop("COURSE_ROOT")
    run = subprocess.run(
        ["bash", str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    data = json.loads((root / "results/results.json").read_text())
    jsonschema.validate(data, SCHEMA)
    assert 10 <= data["score"] < 20  # training.py full marks, the network not


def run_step(workflow: dict, name: str, cwd, tmp_path) -> subprocess.CompletedProcess:
    """Run a workflow step's script as GitHub runs it (bash -eo pipefail), with `course` and
    a `sudo` that just runs its command (we are root) on PATH."""
    (step,) = [s for s in workflow["jobs"]["grade"]["steps"] if s.get("name") == name]
    shims = tmp_path / "bin"
    shims.mkdir(exist_ok=True)
    (shims / "sudo").write_text('#!/bin/sh\n[ "$1" = -E ] && shift\nexec "$@"\n')
    (shims / "sudo").chmod(0o755)
    env = {**os.environ, "PATH": f"{shims}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_github_classroom_workflow_fails_below_full_marks(tmp_path, module):
    workflow = yaml.safe_load((REPO / "examples/github-classroom.yml").read_text())
    assert workflow[True] == ["push", "workflow_dispatch"]  # PyYAML reads the key `on` as True
    repo = tmp_path / "repo"
    for ex in module.exercises:
        (repo / "exercises" / ex.id).mkdir(parents=True)
        shutil.copy(ex.solution, repo / "exercises" / ex.id / ex.file)
    assert run_step(workflow, "Grade", repo, tmp_path).returncode == 0
    assert json.loads((repo / "grade.json").read_text())["score"] == 50
    shutil.copy(MISTAKE, repo / "exercises/01_lstm_network")
    below = run_step(workflow, "Grade", repo, tmp_path)
    assert below.returncode == 1, below.stderr  # the job fails
    assert 40 <= json.loads((repo / "grade.json").read_text())["score"] < 50
