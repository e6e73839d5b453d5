"""The house rules, run inside the test command so that CI enforces them: ruff's lint and
format, and the one-way imports between the packages (import-linter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["lint-imports"],
    ],
    ids=["ruff-check", "ruff-format", "import-layers"],
)
def test_the_house_rules_hold(command):
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_layers_contract_catches_an_upward_import(tmp_path):
    """The contract is live: a content module that imports the CLI breaks it."""
    config = (REPO / "pyproject.toml").read_text()
    for package in ("course", "grader", "courseware"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "courseware" / "content.py").write_text("import course.cli\n")
    (tmp_path / "course" / "cli.py").write_text("import grader\n")
    (tmp_path / "pyproject.toml").write_text(config[config.index("[tool.importlinter]") :])
    result = subprocess.run(
        [str(BIN / "lint-imports")], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 1 and "BROKEN" in result.stdout, result.stdout
