"""A learner's workspace never followed out of: an exercise folder (or exercises/ itself) that
is a link to somewhere else makes `init --upgrade` and `reset` refuse before writing anything
(exit 2, a message naming the link), `progress` reads nothing through it, and `course watch`
neither walks nor grades through links, however many there are."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import main
from course.workspace import MARKER
from tests.helpers import WATCH_LINE_SECONDS, course_watch, no_traceback, read_until


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder beside the workspace, holding a file a learner might have linked to."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "lstm_network.py").write_text("# someone else's file\n")
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def link_exercise_folder(workspace: Path, exercise_id: str, to: Path) -> Path:
    folder = workspace / "exercises" / exercise_id
    shutil.rmtree(folder)
    folder.symlink_to(to, target_is_directory=True)
    return folder


def test_upgrade_through_an_exercise_folder_linked_out_writes_nothing(workspace, outside):
    link_exercise_folder(workspace, "01_lstm_network", outside)
    (workspace / "exercises" / "02_training_step" / "README.md").unlink()  # would be added
    before_outside, before_inside = snapshot(outside), snapshot(workspace)
    result = run("init", "--upgrade")
    assert result.exit_code == 2, result.output
    assert (
        "01_lstm_network is a link to" in result.output
        and "outside this workspace" in result.output
    )
    assert snapshot(outside) == before_outside and snapshot(workspace) == before_inside
    no_traceback(result)


def test_upgrade_with_exercises_linked_out_writes_nothing(workspace, tmp_path):
    moved = tmp_path / "moved-exercises"
    (workspace / "exercises").rename(moved)
    (workspace / "exercises").symlink_to(moved, target_is_directory=True)
    (moved / "03_lstm_cell" / "README.md").unlink()
    before = snapshot(moved)
    result = run("init", "--upgrade")
    assert result.exit_code == 2 and "is a link to" in result.output, result.output
    assert snapshot(moved) == before
    grade = run("grade")
    assert grade.exit_code == 2 and "link to a folder outside this workspace" in grade.output
    no_traceback(grade)


def test_a_link_that_stays_inside_the_workspace_is_fine(module, workspace):
    ex = module.exercise("01_lstm_network")
    real = workspace / "my-exercise-1"
    (workspace / "exercises" / ex.id).rename(real)
    (workspace / "exercises" / ex.id).symlink_to(real, target_is_directory=True)
    (real / "README.md").unlink()
    result = run("init", "--upgrade")
    assert result.exit_code == 0, result.output
    assert (real / "README.md").read_text() == ex.statement.read_text()


@pytest.mark.parametrize("answer", ["--yes", None])
def test_reset_through_a_folder_linked_out_refuses_before_asking(workspace, outside, answer):
    link_exercise_folder(workspace, "01_lstm_network", outside)
    before = snapshot(outside)
    args = ["reset", "01_lstm_network", *([answer] if answer else [])]
    result = run(*args, input="y\n")
    assert result.exit_code == 2, result.output
    assert "is a link to" in result.output and "[y/N]" not in result.output
    assert snapshot(outside) == before
    no_traceback(result)


def test_progress_reads_nothing_through_a_link_out(module, workspace, outside):
    (outside / "lstm_network.py").write_text(
        module.exercise("01_lstm_network").solution.read_text()
    )
    link_exercise_folder(workspace, "01_lstm_network", outside)
    result = run("progress", "--json")
    assert result.exit_code == 0, result.output
    assert '"state": "stale"' in result.output  # unreadable: never someone else's solution


@pytest.mark.parametrize("command", [("grade",), ("watch",)])
def test_exercises_as_a_file_is_named_a_file(workspace, command):
    shutil.rmtree(workspace / "exercises")
    (workspace / "exercises").write_text("not a folder")
    result = run(*command)
    assert result.exit_code == 2, result.output
    assert "is a file, not a folder" in result.output and "does not exist" not in result.output
    no_traceback(result)


# --- course watch: a real process, as a learner runs it ------------------------------------


@pytest.fixture
def stop():
    started: list[subprocess.Popen] = []
    yield started.append
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
        proc.wait()


def test_watch_walks_no_link_and_quits_at_once_beside_many(module, workspace, stop):
    """A folder of many links to big trees (no cycle) beside the exercise: nothing walks it."""
    crowd = workspace / "exercises" / "01_lstm_network" / "links"
    crowd.mkdir()
    for i in range(2000):
        (crowd / f"l{i}").symlink_to("/usr", target_is_directory=True)
    proc = course_watch(workspace, "01_lstm_network")
    stop(proc)
    read_until(proc, "01_lstm_network  not attempted")
    ex = module.exercise("01_lstm_network")
    (workspace / "exercises" / ex.id / ex.file).write_text("x = 1\n")
    read_until(proc, "01_lstm_network  0/10")
    proc.stdin.write("q\n")
    proc.stdin.flush()
    assert proc.wait(timeout=WATCH_LINE_SECONDS) == 0


def test_watch_never_grades_through_a_folder_linked_out(module, workspace, outside, stop):
    link_exercise_folder(workspace, "01_lstm_network", outside)
    proc = course_watch(workspace, "01_lstm_network")
    stop(proc)
    first = read_until(proc, "01_lstm_network  not graded")
    assert "is a link to" in first[-1] and "outside this workspace" in first[-1]
    (outside / "lstm_network.py").write_text("x = 2\n")  # not the learner's file: no grade
    other = module.exercise("02_training_step")
    (workspace / "exercises" / other.id / other.file).write_text("x = 1\n")
    lines = read_until(proc, f"{other.id}  0/10")
    assert not any(line.startswith("01_lstm_network") for line in lines)
    proc.stdin.write("q\n")
    proc.stdin.flush()
    assert proc.wait(timeout=WATCH_LINE_SECONDS) == 0
    assert MARKER not in os.listdir(outside)
