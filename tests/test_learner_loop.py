"""The learner's loop, command by command: `course init` (and --upgrade), `course reset`,
`course progress` after a grade and a quiz, and the hint ladder. Each test works in a workspace
made by `course init` in a temporary folder, editing files where a learner edits them."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import main
from course.workspace import MARKER
from courseware.starters import normal
from tests.helpers import REPO, exercise_file, needs_posix_modes, needs_posix_paths


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_init_lays_out_every_statement_and_starter(module, workspace):
    marker = json.loads((workspace / MARKER).read_text())
    assert (marker["course"], marker["module"]) == (module.info.slug, 12)
    for ex in module.exercises:
        folder = workspace / "exercises" / ex.id
        assert (folder / "README.md").read_text() == ex.statement.read_text()
        assert (folder / ex.file).read_text() == normal(ex.starter.text)
    assert "course watch" in (workspace / "README.md").read_text()


@needs_posix_modes
def test_init_writes_files_as_the_umask_says(workspace):
    assert oct((workspace / "README.md").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("what", ["a file", "a folder"])
def test_init_refuses_a_folder_that_is_not_empty(tmp_path, monkeypatch, what):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "mine"
    target.mkdir()
    keep = target / "notes.txt" if what == "a file" else target / "sub"
    keep.write_text("my notes") if what == "a file" else keep.mkdir()
    result = run("init", "mine")
    assert result.exit_code == 2
    assert "already exists and is not empty" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in target.iterdir()) == [keep.name]


def test_init_into_an_empty_folder_is_fine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert run("init", "empty").exit_code == 0
    assert (tmp_path / "empty" / MARKER).is_file()


def test_upgrade_replaces_untouched_files_and_keeps_edited_ones(module, workspace):
    edited = exercise_file(module, workspace, "01_lstm_network")
    edited.write_text("# my work\n")
    untouched = exercise_file(module, workspace, "02_training_step")
    statement = workspace / "exercises" / "03_lstm_cell" / "README.md"
    statement.unlink()
    untouched.write_text(normal(module.exercise("02_training_step").starter.text) + "\n\n")
    result = run("init", "--upgrade")
    assert result.exit_code == 0, result.output
    assert "added exercises/03_lstm_cell/README.md" in result.output
    assert "kept exercises/01_lstm_network/lstm_network.py: you edited it" in result.output
    assert edited.read_text() == "# my work\n" and statement.is_file()


def test_upgrade_outside_a_workspace_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("init", "--upgrade")
    assert result.exit_code == 2 and "Run `course init`" in result.output


def test_a_command_beside_the_workspace_names_the_folder_to_enter(workspace, monkeypatch):
    """Run where `course init` was run, not in the folder it made (an editable install's
    other commands grade its clone from anywhere, so the upgrade stands for them)."""
    (workspace.parent / "notes").mkdir()
    monkeypatch.chdir(workspace.parent)
    result = run("init", "--upgrade")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "what `course init` made: lstm-course." in result.output
    assert "Run `cd lstm-course` first" in result.output
    assert "Run `course init`" not in result.output


def test_commands_find_the_workspace_from_a_subfolder(module, workspace, monkeypatch):
    monkeypatch.chdir(workspace / "exercises" / "01_lstm_network")
    result = run("progress", "--json")
    assert result.exit_code == 0, result.output
    states = {e["id"]: e["state"] for e in json.loads(result.output)["exercises"]}
    assert set(states.values()) == {"not_attempted"} and len(states) == len(module.exercises)


def test_reset_keeps_a_backup_outside_exercises(module, workspace, tmp_path):
    path = exercise_file(module, workspace, "01_lstm_network")
    path.write_text("# my attempt\n")
    result = run("reset", "01_lstm_network", "--yes")
    assert result.exit_code == 0, result.output
    assert path.read_text() == normal(module.exercise("01_lstm_network").starter.text)
    backup = Path(result.output.split("Your version is kept in ")[1].strip().rstrip("."))
    assert backup.read_text() == "# my attempt\n"
    assert workspace not in backup.parents
    assert not list((workspace / "exercises").rglob("*.bak*"))


def test_reset_asks_first_and_no_means_no(module, workspace):
    path = exercise_file(module, workspace, "02_training_step")
    path.write_text("# mine\n")
    result = run("reset", "training_step", input="n\n")
    assert result.exit_code == 1 and path.read_text() == "# mine\n"


@pytest.mark.parametrize("named", ["2", "02"])
def test_an_exercise_may_be_named_by_its_number(module, workspace, named):
    path = exercise_file(module, workspace, "02_training_step")
    path.write_text("# mine\n")
    result = run("reset", named, "--yes")
    assert result.exit_code == 0, result.output
    assert path.read_text() == normal(module.exercise("02_training_step").starter.text)
    for unknown in ("99", "2.0", "\u0662"):  # no such number; not a number; an Arabic-Indic 2
        refused = run("reset", unknown, "--yes")
        assert refused.exit_code == 2 and f"no exercise '{unknown}'" in refused.output


def test_reset_of_an_untouched_or_deleted_file(module, workspace):
    assert "already the starter" in run("reset", "01_lstm_network", "--yes").output
    path = exercise_file(module, workspace, "01_lstm_network")
    path.unlink()
    result = run("reset", "01_lstm_network", "--yes")
    assert result.exit_code == 0 and "kept" not in result.output and path.is_file()


@needs_posix_paths
def test_reset_refuses_what_it_cannot_back_up(module, workspace):
    path = exercise_file(module, workspace, "01_lstm_network")
    path.unlink()
    path.symlink_to("/etc/passwd")
    result = run("reset", "01_lstm_network", "--yes")
    assert result.exit_code == 2 and "not a regular file" in result.output
    assert path.is_symlink()


def test_progress_after_a_grade_and_a_quiz(module, workspace):
    path = exercise_file(module, workspace, "02_training_step")
    path.write_text(module.exercise("02_training_step").solution.read_text())
    graded = run("grade", "exercises/02_training_step")
    assert graded.exit_code == 0, graded.output
    broken = exercise_file(module, workspace, "05_vanishing_gradients")
    broken.write_text("def input_gradient_norms(*a):\n    return None\n")
    graded = run("grade")
    assert graded.exit_code == 1, graded.output
    bank = module.quizzes[0]
    quiz = run("quiz", "--count", "2", "--no-shuffle", "--answers", "a;a")
    scored = float(re.search(r"Score: ([\d.]+)/2", quiz.output).group(1))
    data = json.loads(run("progress", "--json").output)
    states = {e["id"]: (e["state"], e["score"]) for e in data["exercises"]}
    assert states["02_training_step"] == ("done", 10)
    assert states["05_vanishing_gradients"] == ("failing", 0)
    assert states["01_lstm_network"] == ("not_attempted", 0)
    best, asked = scored, len(bank.questions)  # the 2 questions asked count, no more
    assert data["quiz"] == {"best": best, "max_score": asked, "unanswered": asked - 2}
    points = sum(ex.points for ex in module.exercises)
    assert data["total"] == {"score": 10 + best, "max_score": points + len(bank.questions)}
    path.write_text(path.read_text() + "\n# changed after grading\n")
    data = json.loads(run("progress", "--json").output)
    assert data["exercises"][1]["state"] == "stale" and data["total"]["score"] == best
    assert "changed since its last grade (was 10/10)" in run("progress").output


def test_grading_copies_outside_the_workspace_records_nothing(module, workspace):
    assert run("grade", str(REPO / "solutions" / "02_training_step")).exit_code == 0
    data = json.loads(run("progress", "--json").output)
    assert {e["state"] for e in data["exercises"]} == {"not_attempted"}


def test_init_where_nothing_can_be_written_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    result = run("init", "a-file/ws")
    assert result.exit_code == 2 and "cannot write" in result.output
    assert "Traceback" not in result.output


def test_a_data_folder_that_cannot_be_written_warns_but_the_grade_stands(
    module, workspace, tmp_path, monkeypatch
):
    bad = tmp_path / "not-a-folder"
    bad.write_text("a file where the data folder should be")
    monkeypatch.setenv("COURSE_DATA_DIR", str(bad))
    result = CliRunner().invoke(main, ["grade"])
    total = sum(ex.points for ex in module.exercises)
    assert result.exit_code == 1 and f"Total: 0/{total}" in result.output
    assert "Warning: could not open your progress file" in result.output
