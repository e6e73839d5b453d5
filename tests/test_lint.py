"""The house rules, run inside the test command so that CI enforces them: ruff's lint and
format, and the one-way imports between the packages (import-linter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from tests.helpers import REPO

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
    _skeleton(tmp_path)
    (tmp_path / "courseware" / "content.py").write_text("import course.cli\n")
    (tmp_path / "course" / "cli.py").write_text("import grader\n")
    result = subprocess.run(
        [str(BIN / "lint-imports")], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 1 and "BROKEN" in result.stdout, result.stdout


def _skeleton(root: Path) -> None:
    """Empty packages with every module the contracts name, and the contracts, under root."""
    config = (REPO / "pyproject.toml").read_text()
    for package in ("course", "grader", "courseware", "grader/confined", "grader/confined/probes"):
        (root / package).mkdir()
        (root / package / "__init__.py").write_text("")
    for module in _contract("runner side")["forbidden_modules"]:
        if module.startswith("grader."):
            (root / "grader" / f"{module.removeprefix('grader.')}.py").write_text("")
    (root / "pyproject.toml").write_text(config[config.index("[tool.importlinter]") :])


def _contract(name: str) -> dict:
    """The import-linter contract of pyproject.toml whose name starts with `name`."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"].startswith(name))


def test_the_runner_side_contract_names_every_checker_module():
    """A module added to grader/ outside grader/confined is forbidden to the runner side too."""
    forbidden = set(_contract("runner side")["forbidden_modules"])
    grader = REPO / "grader"
    found = {f"grader.{p.stem}" for p in grader.glob("*.py") if p.stem != "__init__"}
    found |= {f"grader.{p.parent.name}" for p in grader.glob("*/__init__.py")}
    assert found - {"grader.confined"} <= forbidden, found - forbidden
    assert {"course", "courseware", "grader.plugin", "grader.checking"} <= forbidden


def test_the_runner_side_contract_catches_a_checker_import(tmp_path):
    """The trust boundary is live: a probe that imports the checker's plugin breaks it."""
    _skeleton(tmp_path)
    (tmp_path / "grader" / "confined" / "probes" / "leak.py").write_text("import grader.plugin\n")
    result = subprocess.run(
        [str(BIN / "lint-imports")], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 1, result.stdout
    assert "runner side (grader.confined) imports no checker, command or content module BROKEN" in (
        result.stdout
    )
    assert "course (commands) -> grader -> courseware (content) KEPT" in result.stdout
