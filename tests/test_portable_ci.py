"""The CI workflow (.github/workflows/tests.yml): valid against GitHub's workflow schema, as
vendored by check-jsonschema (no network), and running the README's test command on the
three systems; the Linux-only test files are left out elsewhere with their reason."""

from __future__ import annotations

import subprocess
import sys

import yaml

from tests.conftest import LINUX_HOST, LINUX_ONLY
from tests.helpers import REPO

WORKFLOW = REPO / ".github" / "workflows" / "tests.yml"


def validate(path) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema"]
    argv += ["vendor.github-workflows", str(path)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_the_workflow_validates():
    done = validate(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_broken_workflow_does_not(tmp_path):
    broken = yaml.safe_load(WORKFLOW.read_text())
    del broken["jobs"]["test"]["runs-on"]
    broken["jobs"]["test"]["strategy"]["fail-fast"] = "sometimes"
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(broken))
    assert validate(tmp_path / "tests.yml").returncode != 0


def test_three_systems_two_pythons_and_the_readmes_test_command():
    flow = yaml.safe_load(WORKFLOW.read_text())
    matrix = flow["jobs"]["test"]["strategy"]["matrix"]
    assert set(matrix["os"]) == {"ubuntu-latest", "macos-latest", "windows-latest"}
    assert matrix["python"] == ["3.10", "3.x"]
    readme = (REPO / "README.md").read_text()
    assert "-m pytest" in readme and "'.[test]'" in readme
    steps = "\n".join(step.get("run", "") for step in flow["jobs"]["test"]["steps"])
    assert "-m pytest" in steps and "-e '.[test]'" in steps and "torch==2.13.0" in steps


def test_linux_only_files_exist_and_say_why():
    for name, why in {**LINUX_ONLY, **LINUX_HOST}.items():
        assert (REPO / "tests" / name).is_file(), name
        assert why


def test_linux_only_files_are_left_out_elsewhere_and_named(monkeypatch):
    from tests import conftest

    sandbox, mine = REPO / "tests" / "test_sandbox.py", REPO / "tests" / "test_portable.py"
    assert conftest.pytest_ignore_collect(sandbox) is None  # here, on Linux
    monkeypatch.setattr(sys, "platform", "darwin")
    assert conftest.pytest_ignore_collect(sandbox) is True
    assert conftest.pytest_ignore_collect(REPO / "tests" / "test_watch.py") is True
    assert conftest.pytest_ignore_collect(mine) is None
    assert any(
        "test_sandbox.py (the Linux sandbox" in line for line in conftest.pytest_report_header()
    )
