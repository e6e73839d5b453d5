"""Gradescope's results.json (checked against a schema written from its specification), JUnit
XML (read back with a real JUnit parser), and what `course export` puts in the autograder
bundle: its scripts and the course's wheel as released (tests/test_gradescope_bundle.py runs
it as Gradescope does; tests/test_classroom_export.py covers the Classroom template)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import jsonschema
import junitparser
import pytest
from click.testing import CliRunner

from course.cli import main
from courseware import __version__
from tests.helpers import REPO, fresh_clone, needs_posix_shell

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


def export_bundle(tmp_path: Path, *args: str) -> Path:
    bundle = tmp_path / "autograder.zip"
    result = CliRunner().invoke(main, ["export", "gradescope", "-o", str(bundle), *args])
    assert result.exit_code == 0, result.output
    return bundle


def wheel_of(bundle: Path) -> zipfile.ZipFile:
    """The course's wheel inside the bundle, open."""
    with zipfile.ZipFile(bundle) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".whl")]
        return zipfile.ZipFile(io.BytesIO(zf.read(name)))


def test_the_bundle_is_the_scripts_and_the_course_s_wheel(tmp_path, module):
    bundle = export_bundle(tmp_path)
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        setup = zf.read("setup.sh").decode()
    assert sorted(names) == sorted(
        ["setup.sh", "run_autograder", f"lstm_course-{__version__}-py3-none-any.whl"]
    )
    wheel = set(wheel_of(bundle).namelist())
    for ex in module.exercises:
        assert f"courseware/data/grader/checks/check_{ex.id}.py" in wheel
        assert f"courseware/data/solutions/{ex.id}/{ex.file}" in wheel
    assert not any(n.startswith("tests/") or "/corpus/" in n for n in wheel)
    assert "set -euo pipefail" in setup and "|| true" not in setup
    default = setup[setup.index("\nelse\n") :]  # the path Gradescope takes
    assert "--index-url https://download.pytorch.org/whl/cpu" in default


def test_exports_carry_the_released_starters_not_a_clone_s_edits(tmp_path, monkeypatch, module):
    clone = fresh_clone(tmp_path / "clone")
    for ex in module.exercises:
        (clone / "exercises" / ex.id / ex.file).write_text("# the instructor's attempt\n")
    (clone / "exercises/01_lstm_network/notes.txt").write_text("mine")
    monkeypatch.setenv("COURSE_ROOT", str(clone))
    wheel = wheel_of(export_bundle(tmp_path))
    data = "courseware/data/exercises"
    assert {n for n in wheel.namelist() if n.startswith(data)} == {
        f"{data}/{ex.id}/{name}" for ex in module.exercises for name in ("README.md", ex.file)
    }
    for ex in module.exercises:
        assert wheel.read(f"{data}/{ex.id}/{ex.file}").decode() == ex.starter.text
    template = tmp_path / "template"
    result = CliRunner().invoke(
        main, ["export", "classroom", "-o", str(template), "--grader", "lstm-course==0.2.0"]
    )
    assert result.exit_code == 0, result.output
    for ex in module.exercises:
        assert (template / "exercises" / ex.id / ex.file).read_text() == ex.starter.text
    assert not (template / "exercises/01_lstm_network/notes.txt").exists()


@pytest.mark.slow
def test_an_installed_course_exports_the_wheel_it_was_installed_from(installed_course, tmp_path):
    bundle = tmp_path / "autograder.zip"
    run = subprocess.run(
        [str(installed_course.bin / "course"), "export", "gradescope", "-o", str(bundle)],
        cwd=tmp_path, env=installed_course.env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    repacked, original = wheel_of(bundle), zipfile.ZipFile(installed_course.wheel)
    record = f"lstm_course-{__version__}.dist-info/RECORD"
    assert sorted(repacked.namelist()) == sorted(original.namelist())
    for name in original.namelist():
        assert name == record or repacked.read(name) == original.read(name), name
    for line in repacked.read(record).decode().splitlines():
        name, digest, size = line.split(",")
        if name != record:
            data = repacked.read(name)
            assert digest == "sha256=" + _digest(data) and int(size) == len(data), name


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_an_export_from_no_course_source_says_so(tmp_path, monkeypatch):
    course = tmp_path / "course"
    shutil.copytree(REPO, course, ignore=shutil.ignore_patterns(".*", "tests", "_site", "*.toml"))
    monkeypatch.setenv("COURSE_ROOT", str(course))
    result = CliRunner().invoke(main, ["export", "gradescope", "-o", str(tmp_path / "a.zip")])
    assert result.exit_code == 2 and "neither the course's source" in result.output
    assert not (tmp_path / "a.zip").exists()


@needs_posix_shell
def test_run_autograder_always_writes_results(tmp_path):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(export_bundle(tmp_path)) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    (root / "results/results.json").write_text('{"score": 50}')  # a stale one is never kept
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\nexit 3\n")  # Python cannot even start
    broken.chmod(0o755)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "COURSE_PYTHON": str(broken)}
    run = subprocess.run(
        ["bash", str(root / "source/run_autograder")], env=env, capture_output=True, timeout=60
    )
    data = json.loads((root / "results/results.json").read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["score"] == 0 and "not your fault" in data["output"]
    assert run.returncode == 3


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
