"""What is on disk and the learner's to damage, read bounded and believed only when valid: the
workspace marker (`.course-workspace`) and the progress file in the data folder (grades, hints
seen). Bad data gets a message naming the file and what to do, or is rebuilt or ignored;
never a traceback, never a lost file of the learner's."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from course import state
from course.cli import main
from course.workspace import MARKER, MAX_MARKER
from tests.helpers import exercise_file, needs_fifos, needs_posix_paths, no_traceback

GIB = 1 << 30


ONE = {"01_lstm_network": 10}  # the points of the exercise these tests grade


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def sparse(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        f.truncate(size)


# --- the workspace marker ------------------------------------------------------------------


def damage_sparse(marker: Path) -> str:
    sparse(marker, 4 * GIB)  # read whole, it would take 4 GiB of memory
    return f"larger than {MAX_MARKER >> 10} KiB"


def damage_deep(marker: Path) -> str:
    marker.write_text("[" * 100_000)
    return "nested too deeply"


def damage_values(marker: Path) -> str:
    marker.write_text(json.dumps({"files": {"exercises/x": "\x1b]0;pwned\x07"}}))
    return "not a fingerprint"


def damage_link(marker: Path) -> str:
    marker.unlink()
    marker.symlink_to("/etc/hostname")
    return "a symbolic link"


@pytest.mark.parametrize(
    "damage",
    [damage_sparse, damage_deep, damage_values, pytest.param(damage_link, marks=needs_posix_paths)],
)
def test_upgrade_rebuilds_a_damaged_marker_keeping_every_edited_file(module, workspace, damage):
    edited = exercise_file(module, workspace, "01_lstm_network")
    edited.write_text("# my work\n")
    statement = workspace / "exercises" / "02_training_step" / "README.md"
    statement.unlink()
    why = damage(workspace / MARKER)
    result = run("init", "--upgrade")
    assert result.exit_code == 0, result.output
    assert f"rebuilt {MARKER}: it was damaged (" in result.output and why in result.output
    assert "kept exercises/01_lstm_network/lstm_network.py: it differs" in result.output
    assert edited.read_text() == "# my work\n" and statement.is_file()
    assert "\x1b" not in result.output
    no_traceback(result)
    marker = workspace / MARKER
    assert not marker.is_symlink() and marker.stat().st_size < MAX_MARKER
    recorded = json.loads(marker.read_text())["files"]
    assert "exercises/01_lstm_network/lstm_network.py" not in recorded  # not known to be ours
    again = run("init", "--upgrade")  # the rebuilt marker is a good one
    assert again.exit_code == 0 and "rebuilt" not in again.output
    assert "kept exercises/01_lstm_network/lstm_network.py: you edited it" in again.output


def test_a_giant_marker_still_marks_the_workspace_for_every_other_command(module, workspace):
    sparse(workspace / MARKER, 4 * GIB)
    result = run("progress")
    assert result.exit_code == 0 and "01_lstm_network" in result.output
    assert (workspace / MARKER).stat().st_size == 4 * GIB  # only --upgrade rewrites it


# --- the progress file ---------------------------------------------------------------------


def add_grade(workspace: Path, exercise: str, fingerprint, kind, score, max_score, failing=None):
    with sqlite3.connect(state.data_dir() / state.FILENAME) as db:
        db.execute(
            "INSERT OR REPLACE INTO grades VALUES (?, ?, ?, ?, ?, ?, 'now', ?)",
            (str(workspace), exercise, fingerprint, kind, score, max_score, failing),
        )


@pytest.mark.parametrize(
    "score, max_score, kind, failing",
    [
        (1e308, 1e308, "graded", None),  # done at 1e308
        (float("inf"), float("inf"), "graded", None),
        ("abc", 10, "graded", None),
        (11, 10, "graded", None),
        (-1, 10, "graded", None),
        (10, 10, "passed\x1b[2J", None),
        (3, 10, "graded", "test_x\x1b]0;title\x07"),
    ],
)
def test_a_crafted_grade_row_is_never_believed(module, workspace, score, max_score, kind, failing):
    from courseware.starters import fingerprint

    path = exercise_file(module, workspace, "01_lstm_network")
    path.write_text("# not done at all\n")
    state.last_grades(str(workspace), ONE)  # makes the tables
    add_grade(
        workspace, "01_lstm_network", fingerprint(path.read_text()), kind, score, max_score, failing
    )
    assert state.last_grades(str(workspace), ONE) == {}
    result = run("progress", "--json")
    assert result.exit_code == 0, result.output
    exercises = {e["id"]: e for e in json.loads(result.output)["exercises"]}
    assert exercises["01_lstm_network"]["state"] == "stale"
    assert exercises["01_lstm_network"]["score"] == 0
    assert "\x1b" not in run("progress").output


def test_a_grade_counts_only_out_of_the_exercise_s_own_points(workspace):
    state.record_grades(str(workspace), [state.Grade("01_lstm_network", "a" * 64, "graded", 5, 10)])
    add_grade(workspace, "02_training_step", "b" * 64, "graded", 900, 900)
    add_grade(workspace, "99_unknown", "c" * 64, "graded", 1, 1)
    points = {"01_lstm_network": 10, "02_training_step": 10}
    assert set(state.last_grades(str(workspace), points)) == {"01_lstm_network"}


def test_a_row_with_a_maximum_of_its_own_never_shows_the_exercise_done(module, workspace):
    from courseware.starters import fingerprint

    path = exercise_file(module, workspace, "01_lstm_network")
    path.write_text("# not done at all\n")
    state.record_grades(str(workspace), [])  # makes the tables
    add_grade(workspace, "01_lstm_network", fingerprint(path.read_text()), "graded", 1000, 1000)
    result = run("progress", "--json")
    assert result.exit_code == 0, result.output
    (ex,) = [e for e in json.loads(result.output)["exercises"] if e["id"] == "01_lstm_network"]
    assert (ex["state"], ex["score"], ex["max_score"]) == ("stale", 0, 10)


def test_crafted_hint_rows_are_ignored(workspace):
    state.hints_seen(str(workspace), "01_lstm_network")  # makes the tables
    with sqlite3.connect(state.data_dir() / state.FILENAME) as db:
        rows = [(str(workspace), "01_lstm_network", n) for n in (10**12, -3, "two", 2.5)]
        db.executemany("INSERT INTO hints_shown VALUES (?, ?, ?)", rows)
        db.execute("INSERT INTO hints VALUES (?, '01_lstm_network', 'many')", (str(workspace),))
    assert state.hints_seen(str(workspace), "01_lstm_network") == set()
    with sqlite3.connect(state.data_dir() / state.FILENAME) as db:  # an older version's count
        db.execute("UPDATE hints SET seen = 2")
    assert state.hints_seen(str(workspace), "01_lstm_network") == {1, 2}
    assert state.next_hint(str(workspace), "01_lstm_network", (1, 0, 2, 3)) == 2


def test_a_giant_progress_file_is_refused_before_it_is_read(workspace):
    path = state.data_dir() / state.FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    sparse(path, 4 * GIB)
    result = run("progress")
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and "far more than progress needs" in result.output
    assert "move the file away" in result.output
    no_traceback(result)
    assert path.stat().st_size == 4 * GIB  # the learner's file: left for them to move


@pytest.mark.timeout(60)
@needs_fifos
def test_a_progress_file_that_is_a_fifo_is_refused_not_waited_on(workspace):
    path = state.data_dir() / state.FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    result = run("progress")
    assert result.exit_code == 2 and "not a regular file" in result.output, result.output
    no_traceback(result)


def test_a_progress_file_written_before_grades_kept_their_check_still_works(workspace):
    path = state.data_dir() / state.FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:  # the tables as the previous version made them
        db.execute(
            "CREATE TABLE grades (workspace TEXT NOT NULL, exercise TEXT NOT NULL, "
            "fingerprint TEXT, state TEXT NOT NULL, score REAL NOT NULL, "
            "max_score REAL NOT NULL, graded TEXT NOT NULL, PRIMARY KEY (workspace, exercise))"
        )
        db.execute(
            "INSERT INTO grades VALUES (?, '01_lstm_network', ?, 'graded', 4, 10, 'x')",
            (str(workspace), "d" * 64),
        )
    (grade,) = state.last_grades(str(workspace), ONE).values()
    assert (grade.score, grade.failing) == (4, None)
    state.record_grades(
        str(workspace), [state.Grade("01_lstm_network", "e" * 64, "graded", 6, 10, "test_x")]
    )
    assert state.last_grades(str(workspace), ONE)["01_lstm_network"].failing == "test_x"
