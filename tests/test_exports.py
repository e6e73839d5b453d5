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


def test_github_classroom_workflow_grades_and_fails_below_full_marks():
    workflow = yaml.safe_load((REPO / "examples/github-classroom.yml").read_text())
    steps = workflow["jobs"]["grade"]["steps"]
    commands = " ".join(step.get("run", "") for step in steps)
    assert "course grade exercises/" in commands and "torch==" in commands
    assert True in workflow or "on" in workflow  # PyYAML reads the key `on` as True
