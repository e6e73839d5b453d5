"""The `course` command under bad input and odd environments: every failure is a message that
names the file and what to do (never a traceback), with exit code 1 for a failure and 2 for a
usage or content error, and no learner data is lost or half-written."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from course import cli, history
from course.cli import main
from course.workspace import MARKER
from tests.helpers import REPO, exercise_file, needs_dev_full, needs_posix_shell, needs_symlinks


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def no_traceback(result) -> None:
    text = result.output if hasattr(result, "output") else result.stdout + result.stderr
    assert "Traceback" not in text, text
    if hasattr(result, "exception") and result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)


def course_process(*args: str, cwd: Path, shell_prefix: str = "", **kw):
    """`python -m course ARGS` through the console entry point (which maps Ctrl-C, closed
    stdin and stray OSErrors), optionally after `shell_prefix` in a bash -c."""
    command = " ".join([sys.executable, "-m", "course", *(f"'{a}'" for a in args)])
    return subprocess.run(
        ["bash", "-c", f"{shell_prefix}{command}"], cwd=cwd, capture_output=True, text=True,
        timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)}, **kw,
    )  # fmt: skip


FIRST_ANSWER = ("--no-shuffle", "--count", "1", "--answers", "a")  # question 1 is a letter


# --- the entry point: stdin, Ctrl-C, the current folder ------------------------------------


@needs_posix_shell
def test_a_quiz_with_stdin_closed_ends_cleanly(tmp_path):
    result = course_process("quiz", "--count", "1", cwd=tmp_path, shell_prefix="exec 0<&-; ")
    assert result.returncode == 2, result.stderr
    assert "the input ended at question 1 of 1" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@needs_posix_shell
def test_a_deleted_current_folder_is_a_message(tmp_path):
    prefix = "mkdir gone && cd gone && rmdir ../gone && "
    result = course_process("progress", cwd=tmp_path, shell_prefix=prefix)
    assert result.returncode == 2
    assert "the current folder no longer exists" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_ctrl_c_exits_130_even_when_click_turned_it_into_abort(capsys):
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise click.Abort() from exc
    except click.Abort as abort:
        assert cli._stopped(abort) == 130
    assert "Interrupted." in capsys.readouterr().err
    assert cli._stopped(click.Abort()) == 1


# --- course reset without --yes --------------------------------------------------------------


@pytest.mark.parametrize("answer, code", [("n\n", 1), ("", 2)])
def test_reset_without_yes_keeps_the_file_when_not_confirmed(module, workspace, answer, code):
    path = exercise_file(module, workspace, "01_lstm_network")
    path.write_text("# my work\n")
    result = run("reset", "01_lstm_network", input=answer)
    assert result.exit_code == code, result.output
    assert path.read_text() == "# my work\n"
    no_traceback(result)
    if code == 2:
        assert "--yes" in result.output


@needs_posix_shell
def test_reset_with_stdin_closed_keeps_the_file(module, workspace):
    path = exercise_file(module, workspace, "01_lstm_network")
    path.write_text("# my work\n")
    result = course_process("reset", "01_lstm_network", cwd=workspace, shell_prefix="exec 0<&-; ")
    assert result.returncode == 2 and "--yes" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and path.read_text() == "# my work\n"


def test_reset_of_a_file_that_cannot_be_read_says_why(module, workspace):
    path = exercise_file(module, workspace, "02_training_step")
    path.unlink()
    path.mkdir()  # a folder where the file should be
    result = run("reset", "02_training_step", "--yes")
    assert result.exit_code == 2 and "not a regular file" in result.output
    assert path.is_dir()
    no_traceback(result)


# --- course init and --upgrade -----------------------------------------------------------------


@pytest.mark.parametrize("inside", [".", "exercises/01_lstm_network"])
def test_init_inside_a_workspace_is_refused(workspace, monkeypatch, inside):
    monkeypatch.chdir(workspace / inside)
    result = run("init", "nested")
    assert result.exit_code == 2 and "would be inside the workspace" in result.output
    assert not (workspace / inside / "nested").exists()
    no_traceback(result)


def test_init_says_how_to_cd_into_a_folder_with_a_space(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("init", "my course")
    assert result.exit_code == 0 and "cd 'my course'" in result.output


def test_a_failed_init_takes_back_what_it_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import course.workspace as ws

    real, calls = ws.write_atomically, []

    def fill_up(path, data):
        calls.append(path)
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(ws, "write_atomically", fill_up)
    result = run("init", "ws")
    assert result.exit_code == 2 and "The disk is full" in result.output
    assert not (tmp_path / "ws").exists()
    (tmp_path / "empty").mkdir()
    calls.clear()
    assert run("init", "empty").exit_code == 2
    assert (tmp_path / "empty").is_dir() and not list((tmp_path / "empty").iterdir())
    no_traceback(result)


@pytest.mark.parametrize(
    "marker", ['{"files": null}', '{"files": ["a"]}', '{"files": {"a": 5}}', "[]", "garbage"]
)
def test_upgrade_rebuilds_a_hand_edited_marker(workspace, marker):
    (workspace / MARKER).write_text(marker)
    result = run("init", "--upgrade")
    assert result.exit_code == 0 and "it was damaged" in result.output, result.output
    assert json.loads((workspace / MARKER).read_text())["files"]
    no_traceback(result)


@needs_symlinks
def test_upgrade_does_not_call_an_unreadable_file_an_edit(module, workspace):
    path = exercise_file(module, workspace, "01_lstm_network")
    path.unlink()
    path.symlink_to(workspace / "README.md")  # a link is never read as the learner's file
    result = run("init", "--upgrade")
    assert result.exit_code == 1, result.output
    assert "skipped exercises/01_lstm_network/lstm_network.py" in result.output
    assert "you edited it" not in result.output and path.is_symlink()
    no_traceback(result)


# --- the data folder ---------------------------------------------------------------------------


def test_a_data_folder_that_is_a_file_stops_the_quiz_before_the_first_question(
    tmp_path, monkeypatch
):
    bad = tmp_path / "data-file"
    bad.write_text("not a folder")
    monkeypatch.setenv("COURSE_DATA_DIR", str(bad))
    for args in (FIRST_ANSWER, ("--history",)):
        result = run("quiz", *args)
        assert result.exit_code == 2 and "is a file, not a folder" in result.output
        assert "Question 1" not in result.output
        no_traceback(result)
    assert bad.read_text() == "not a folder"


def test_a_damaged_history_stops_the_quiz_before_the_first_question(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    garbage = b"this is not a database" * 100
    history.history_file().write_bytes(garbage)
    result = run("quiz", *FIRST_ANSWER)
    assert result.exit_code == 2 and "Nothing was asked yet" in result.output
    assert "Question 1" not in result.output
    assert history.history_file().read_bytes() == garbage


def test_an_attempt_that_cannot_be_saved_says_how_to_save_it(monkeypatch):
    import shlex

    record = history.record

    def fail(attempt, workspace=""):
        raise history.CourseError("could not save this attempt: the disk is full")

    monkeypatch.setattr(history, "record", fail)
    result = run("quiz", *FIRST_ANSWER)
    assert result.exit_code == 2 and "Your answers are not lost" in result.output
    no_traceback(result)
    replay = result.output.split("course quiz ", 1)[1].splitlines()[0]
    monkeypatch.setattr(history, "record", record)  # not undo(): that drops COURSE_DATA_DIR
    again = run("quiz", *shlex.split(replay))
    assert again.exit_code == 0, again.output
    (saved,) = history.attempts(workspace=None)  # in whichever workspace it was taken
    assert saved.questions[0].given == "a"


def test_a_seed_too_big_for_the_history_is_refused_before_the_quiz():
    result = run("quiz", "--seed", str(2**70), "--count", "1", "--answers", "a")
    assert result.exit_code == 2 and "--seed" in result.output
    no_traceback(result)


def test_hand_edited_history_rows_are_skipped_not_a_crash():
    assert run("quiz", *FIRST_ANSWER).exit_code == 0
    with sqlite3.connect(history.history_file()) as db:
        db.execute(  # in the same workspace as the attempt just taken
            "INSERT INTO attempts (workspace, bank, title, seed, started, finished, score, "
            "max_score, questions) SELECT workspace, 'lstm', 't', NULL, 'x', 'y', 1, 0, "
            "'not json' FROM attempts"
        )
    listed = run("quiz", "--history")
    assert listed.exit_code == 0 and "could not be read" in listed.output
    assert listed.output.count("lstm") == 1
    no_traceback(listed)


def test_hand_edited_progress_rows_are_ignored(module, workspace):
    from course import state

    exercise_file(module, workspace, "01_lstm_network").write_text("# mine\n")
    state.record_grades(str(workspace), [state.Grade("01_lstm_network", "f", "graded", 1, 10)])
    with sqlite3.connect(state.data_dir() / state.FILENAME) as db:
        db.execute("UPDATE grades SET score = 'abc'")
        db.execute("INSERT INTO hints VALUES (?, '01_lstm_network', 'many')", (str(workspace),))
    result = run("progress")
    assert result.exit_code == 0, result.output
    assert state.hints_seen(str(workspace), "01_lstm_network") == set()


def test_a_locked_database_says_wait_not_move_it_away():
    text = history.advice(sqlite3.OperationalError("database is locked"))
    assert "wait" in text and "Do not move the file away" in text


# --- course progress in a damaged workspace ----------------------------------------------------


def test_progress_says_when_exercises_is_missing(workspace):
    import shutil

    shutil.rmtree(workspace / "exercises")
    result = run("progress")
    assert result.exit_code == 0 and "exercises is missing" in result.output.replace("\n", " ")
    assert "--upgrade" in result.output


def test_progress_says_when_a_file_cannot_be_read(module, workspace):
    path = exercise_file(module, workspace, "01_lstm_network")
    path.unlink()
    path.mkdir()
    result = run("progress")
    assert result.exit_code == 0 and "cannot be read" in result.output
    assert "edited, not graded yet" not in result.output.splitlines()[0]


# --- course grade ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [("--timeout", "nan"), ("--timeout", "1e9"), ("--memory", str(2**60))]
)
def test_grade_options_out_of_range_are_usage_errors(args):
    result = run("grade", "exercises", *args)
    assert result.exit_code == 2 and "Invalid value" in result.output


def test_grade_without_exercises_folder_says_how_to_get_it_back(workspace):
    import shutil

    shutil.rmtree(workspace / "exercises")
    result = run("grade")
    assert result.exit_code == 2 and "course init --upgrade" in result.output
    no_traceback(result)


def test_a_report_that_cannot_be_written_still_prints_the_grade(workspace, monkeypatch, tmp_path):
    import grader.formats

    real = grader.formats.write_report

    def write_report(report, fmt, path):
        if fmt == "json":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        real(report, fmt, path)

    monkeypatch.setattr(grader.formats, "write_report", write_report)
    junit = tmp_path / "out.xml"
    args = ["exercises/01_lstm_network", "--json", str(tmp_path / "out.json")]
    result = run("grade", *args, "--format", "junit", "-o", str(junit))
    assert result.exit_code == 2, result.output
    assert "Total: 0/10" in result.output and "the json report was not written" in result.output
    assert junit.is_file() and not (tmp_path / "out.json").exists()
    no_traceback(result)


def test_hints_with_a_broken_data_folder_keep_the_grade_s_exit_code(workspace, tmp_path):
    bad = tmp_path / "garbage"
    bad.mkdir()
    (bad / "progress.sqlite3").write_bytes(b"not a database" * 100)
    result = CliRunner(env={"COURSE_DATA_DIR": str(bad)}).invoke(
        main, ["grade", "exercises/01_lstm_network", "--hints"]
    )
    assert result.exit_code == 1, result.output
    assert "Total: 0/10" in result.output and "no hints this time" in result.output
    no_traceback(result)


# --- course build ------------------------------------------------------------------------------


@needs_symlinks
def test_build_into_a_link_loop_or_under_a_file_is_a_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("loop1").symlink_to("loop2")
    Path("loop2").symlink_to("loop1")
    Path("a-file").write_text("keep")
    for target in ("loop1", "a-file/site"):
        result = run("build", "-o", target)
        assert result.exit_code == 2, result.output
        no_traceback(result)
    assert Path("a-file").read_text() == "keep"


def test_a_half_written_build_is_replaced_by_the_next(tmp_path, monkeypatch):
    import shutil

    real = shutil.copyfile

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full)
    out = tmp_path / "site"
    result = run("build", "-o", str(out))
    assert result.exit_code == 2 and "The disk is full" in result.output
    no_traceback(result)
    monkeypatch.setattr(shutil, "copyfile", real)
    result = run("build", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file()


# --- course export -----------------------------------------------------------------------------


def test_classroom_export_into_a_folder_in_use_names_the_export(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "mine.txt").write_text("mine")
    result = run("export", "classroom", "-o", str(tmp_path / "t"), "--grader", "x")
    assert result.exit_code == 2 and "the template is not written there" in result.output
    assert "course init" not in result.output
    assert [p.name for p in (tmp_path / "t").iterdir()] == ["mine.txt"]


@pytest.mark.parametrize("requirement", ["", "  ", "pkg\nname: injected"])
def test_classroom_export_refuses_a_requirement_that_is_not_one_line(tmp_path, requirement):
    out = tmp_path / "t"
    result = run("export", "classroom", "-o", str(out), "--grader", requirement)
    assert result.exit_code == 2 and "--grader" in result.output
    assert not out.exists()


def test_export_under_a_file_is_a_message(tmp_path):
    (tmp_path / "a-file").write_text("keep")
    for args in (
        ["gradescope", "-o", str(tmp_path / "a-file" / "autograder.zip")],
        ["classroom", "-o", str(tmp_path / "a-file" / "t"), "--grader", "x"],
    ):
        result = run("export", *args)
        assert result.exit_code == 2 and "cannot write" in result.output, result.output
        no_traceback(result)
    assert (tmp_path / "a-file").read_text() == "keep"


@needs_dev_full
def test_the_entry_point_turns_a_stray_oserror_into_a_message(tmp_path):
    result = course_process("progress", cwd=tmp_path, shell_prefix="exec 1>/dev/full; ")
    assert result.returncode == 2 and "No space left on device" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["grade", "exercises/01_lstm_network", "--json", "{file}"],
        ["grade", "--json", "{file}"],  # --json taken for a flag: the file is its value
        ["grade", "exercises/01_lstm_network", "--format", "junit", "-o", "{file}"],
        ["quiz", "--json", "{file}"],
        ["export", "gradescope", "-o", "{file}"],
    ],
)
def test_a_report_never_replaces_the_learner_s_code(module, workspace, args):
    path = exercise_file(module, workspace, "01_lstm_network")
    path.write_text("# my work\n")
    result = run(*(a.format(file=path) for a in args))
    assert result.exit_code == 2 and "is not a report" in result.output, result.output
    assert path.read_text() == "# my work\n"


def test_build_refuses_a_folder_inside_exercises(workspace):
    result = run("build", "-o", "exercises/01_lstm_network/site")
    assert result.exit_code == 2 and "is inside" in result.output
    assert not (workspace / "exercises/01_lstm_network/site").exists()


def test_init_over_a_file_says_it_is_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lstm-course").write_text("keep")
    result = run("init")
    assert result.exit_code == 2 and "is a file, not a folder" in result.output
    assert (tmp_path / "lstm-course").read_text() == "keep"


@needs_symlinks
def test_a_quiz_bank_named_by_a_link_loop_is_unknown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("loop1").symlink_to("loop2")
    Path("loop2").symlink_to("loop1")
    result = run("quiz", "loop1")
    assert result.exit_code == 2 and "no quiz bank 'loop1'" in result.output
    no_traceback(result)
    result = run("quiz", "--history", "loop1")
    assert result.exit_code == 0 and "No quiz attempts in" in result.output


def test_approve_starters_never_writes_into_the_installed_package(tmp_path, monkeypatch):
    import shutil

    root = tmp_path / "site-packages" / "courseware" / "data"
    for name in ("course.yaml", "starters.lock", "exercises", "solutions", "quizzes", "lesson"):
        source = REPO / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        root.mkdir(parents=True, exist_ok=True)
        copy(source, root / name)
    before = (root / "starters.lock").read_bytes()
    (root / "exercises/01_lstm_network/lstm_network.py").write_text("# a learner's edit\n")
    monkeypatch.setenv("COURSE_ROOT", str(root))
    monkeypatch.setattr("courseware.content.PACKAGED", root)
    result = run("verify", "--approve-starters")
    assert result.exit_code == 2 and "the installed package" in result.output
    assert (root / "starters.lock").read_bytes() == before


def test_every_report_format_has_the_suffix_its_files_may_replace():
    from grader.formats import FORMATS, SUFFIXES

    assert SUFFIXES.keys() == FORMATS.keys()
