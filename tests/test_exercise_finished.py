"""`course validate` refuses an exercise that is not finished (a template's TODO left, too
few hints, no README row, a probe nobody defines, an empty corpus), `course verify` reports
the same before anything else, and `--approve-starters --exercise` approves that one only."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import main
from courseware.content import approve_starters, load_module
from grader.verify import verify
from tests.helpers import fresh_clone


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    root = fresh_clone(tmp_path / "repo")
    monkeypatch.setenv("COURSE_ROOT", str(root))
    monkeypatch.chdir(root)
    return root


def problems() -> str:
    result = CliRunner().invoke(main, ["validate"])
    assert "Traceback" not in result.output
    return result.output if result.exit_code else ""


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_the_repository_is_finished(repo):
    assert problems() == ""


def test_an_untouched_scaffold_with_dummy_cases_is_not_finished(repo):
    result = CliRunner().invoke(main, ["new", "exercise", "padding", "--objective", "shapes"])
    assert result.exit_code == 0, result.output
    (ex,) = [e for e in load_module(repo).exercises if e.id.endswith("_padding")]
    for kind, n in (("mistakes", 3), ("correct", 2)):
        for i in range(n):
            case = repo / "tests" / "corpus" / ex.id / kind / f"dummy{i}" / "padding.py"
            case.parent.mkdir(parents=True)
            case.write_text("# corpus: dummy\n")
    approve_starters(repo)
    found = problems()
    probe = "grader/confined/probes/padding.py"
    for part in (f"exercises/{ex.id}/README.md", f"solutions/{ex.id}/padding.py",
                 f"grader/checks/check_{ex.id}.py", probe):  # fmt: skip
        assert f"{part}:" in found and "a template's TODO is still here" in found, part
    assert f"exercise {ex.id}: this hint is still the template's TODO" in found
    assert f"has no row for {ex.id}" in found
    first = next(verify(load_module(repo), (ex.id,)))  # before any grading starts
    assert first.claim == "passes course validate" and not first.ok


def test_fewer_than_three_hints(repo):
    yaml = repo / "course.yaml"
    lines = yaml.read_text().splitlines(keepends=True)
    at = lines.index("  - id: 05_vanishing_gradients\n")
    hints = lines.index("    hints:\n", at)
    items = [i for i in range(hints + 1, len(lines)) if lines[i].startswith("      - ")]
    end = next(i for i in range(hints + 1, len(lines)) if not lines[i].startswith("      "))
    third = [i for i in items if i < end][2]
    yaml.write_text("".join(lines[:third] + lines[end:]))  # two hints left
    assert "exercise 05_vanishing_gradients has 2 hint(s); write at least 3" in problems()


def test_a_readme_row_missing_or_out_of_date(repo):
    readme = repo / "README.md"
    edit(readme, "| `02_training_step` |", "| `02_training_steps` |")
    assert "has no row for 02_training_step" in problems()
    edit(readme, "| `02_training_steps` |", "| `02_training_step` |")
    row = next(line for line in readme.read_text().splitlines() if "`04_forecasting`" in line)
    edit(readme, row, row.replace("| 10 |", "| 9 |"))
    assert "the row of 04_forecasting says 9 points; course.yaml gives it 10" in problems()


def test_a_check_calling_a_probe_nobody_defines(repo):
    check = repo / "grader" / "checks" / "check_02_training_step.py"
    edit(check, '"training.steps"', '"training.stepz"')
    assert (
        "calls the probe training.stepz, and no grader/confined/probes/training.py defines it"
        in (problems())
    )
    edit(check, '"training.stepz"', '"trainin.steps"')
    assert "calls the probe trainin.steps" in problems()


def test_approve_starters_honours_exercise(repo):
    for ex_id, name in (
        ("01_lstm_network", "lstm_network.py"),
        ("02_training_step", "training.py"),
    ):
        with (repo / "exercises" / ex_id / name).open("a") as f:
            f.write("# TODO changed\n")
    approve = ["verify", "--approve-starters", "--exercise", "lstm_network"]
    result = CliRunner().invoke(main, approve)
    assert result.exit_code == 0 and "Approved 1 starters" in result.output, result.output
    module = load_module(repo)
    assert module.exercise("01_lstm_network").starter.text.endswith("# TODO changed\n")
    assert not module.exercise("02_training_step").starter.text.endswith("# TODO changed\n")
    assert [e.id for e in module.exercises] == [e.id for e in load_module().exercises]
