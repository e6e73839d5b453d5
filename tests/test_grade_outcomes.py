"""One tiny submission per outcome, graded through the real runner: what the learner reads
for broken files, and how `course grade` finds files, writes JSON and exits."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import main
from grader.report import NEXT_STEP
from grader.results import BLOCKED, NOT_ATTEMPTED, NOT_RUN
from tests.helpers import (
    REPO,
    failed_messages,
    needs_byte_names,
    needs_fifos,
    needs_posix_paths,
    needs_symlinks,
    solution,
)

EX1 = "01_lstm_network"


def test_syntax_error_names_file_and_line(grade_source):
    result = grade_source(EX1, "import torch\n\nclass LSTMNetwork(:\n    pass\n")
    (imports,) = [c for c in result.checks if c.name == "test_imports"]
    assert imports.state == "failed"
    assert "lstm_network.py line 3: SyntaxError" in imports.message
    assert "Traceback" not in imports.message
    assert all(c.state in (BLOCKED, NOT_RUN) for c in result.checks if c is not imports)
    assert result.score == 0


def test_blocked_checks_say_by_what(grade_source):
    result = grade_source(EX1, "import torch\nraise ValueError('boom at import')\n")
    assert "Importing lstm_network.py raised ValueError at line 2" in failed_messages(result)
    blocked = [c for c in result.checks if c.state == BLOCKED]
    assert len(blocked) >= 6
    assert all("Your file imports and defines LSTMNetwork" in c.message for c in blocked)
    from grader.report import terminal
    from grader.results import GradeReport

    shown = terminal(GradeReport(target="x", exercises=[result], devices=["cpu"], versions={}))
    said = f"{len(blocked)} check(s) blocked: 'Your file imports and defines LSTMNetwork' did"
    assert said in shown and "so they cannot run" in shown and "blocked: blocked" not in shown


@pytest.mark.parametrize(
    "verbose, hints, advised",
    [
        (False, False, NEXT_STEP),
        (True, False, "Run with --hints for the next hint."),
        (False, True, "Run with -v for every check and the tracebacks."),
        (True, True, None),
    ],
)
def test_the_last_line_advises_only_options_this_run_lacks(grade_source, verbose, hints, advised):
    from grader.report import terminal
    from grader.results import GradeReport

    result = grade_source(EX1, "import torch\n\nclass LSTMNetwork(:\n    pass\n")
    report = GradeReport(target="x", exercises=[result], devices=["cpu"], versions={})
    last = terminal(report, verbose=verbose, colour=False, hints=hints).splitlines()[-1]
    assert last == advised if advised else last.startswith("Total: 0/")


def test_a_long_quoted_error_is_wrapped_at_its_indent_and_a_traceback_is_kept_whole(
    grade_source,
):
    from grader.report import terminal
    from grader.results import GradeReport

    words = " ".join(f"word{i}" for i in range(30))
    source = (
        "import torch.nn as nn\n\n\nclass LSTMNetwork(nn.Module):\n"
        "    def __init__(self, i, h, layers, o):\n        super().__init__()\n"
        "        self.lstm = nn.LSTM(i, h, layers, batch_first=True)\n"
        "        self.head = nn.Linear(h, o)\n\n"
        f"    def forward(self, x):\n        raise ValueError({words!r})\n"
    )
    result = grade_source(EX1, source)
    report = GradeReport(target="x", exercises=[result], devices=["cpu"], versions={})
    shown = terminal(report, colour=False).splitlines()
    quoted = [line for line in shown if line.startswith(" " * 10)]  # the error, under its line
    assert len(quoted) > 1 and all(len(line) <= 96 for line in shown if "word" in line)
    assert " ".join(line.strip() for line in quoted) == words
    shown = terminal(report, verbose=True, colour=False).splitlines()
    assert any(line.strip() == f"raise ValueError({words!r})" for line in shown)  # not wrapped


def test_undecodable_file(grade_source):
    result = grade_source(EX1, b"\xff\xfe\x00 not utf-8 \xc3\x28")
    assert "not valid UTF-8" in failed_messages(result)


def test_missing_name(grade_source):
    result = grade_source(EX1, "import torch\n\nclass LSTMNet:\n    pass\n")
    assert "lstm_network.py defines no LSTMNetwork (it defines: torch, LSTMNet)" in failed_messages(
        result
    )


def test_not_a_module(grade_source):
    result = grade_source(EX1, "class LSTMNetwork:\n    def __init__(self, *a):\n        pass\n")
    assert "must subclass nn.Module" in failed_messages(result)


def test_one_broken_exercise_does_not_stop_the_others(module, zygote, tmp_path):
    from grader.grade import grade

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "lstm_network.py").write_text("def oops(:\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "training.py").write_text(solution(module, "02_training_step"))
    report = grade(module, tmp_path, zygote=zygote)
    by_id = {e.id: e for e in report.exercises}
    assert by_id[EX1].score == 0 and by_id["02_training_step"].complete


def test_missing_file_in_a_folder_is_not_attempted(module, zygote, tmp_path):
    from grader.grade import grade

    (tmp_path / "training.py").write_text(solution(module, "02_training_step"))
    report = grade(module, tmp_path, zygote=zygote)
    by_id = {e.id: e for e in report.exercises}
    assert (
        by_id[EX1].state == NOT_ATTEMPTED and "no file named lstm_network.py" in by_id[EX1].message
    )
    assert report.max_score == sum(e.points for e in module.exercises) and report.score == 10


# ------------------------------------------------------------------ the command line


def test_cli_json_report_has_gradescope_keys(tmp_path):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["grade", str(REPO / "solutions"), "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    total = sum(e["max_score"] for e in data["exercises"])
    assert data["score"] == data["max_score"] == total >= 20
    assert {"score", "max_score", "output", "tests"} <= data.keys()
    for test in data["tests"]:
        assert {"name", "score", "max_score", "status", "output"} <= test.keys()
        assert test["status"] == "passed"
    assert data["not_run"] and all("CUDA" in t["name"] for t in data["not_run"])
    assert data["versions"]["torch"] and data["isolation"]["limits"] is True
    assert f"Total: {total:g}/{total:g}" in result.output


def test_cli_exit_code_one_and_hints_when_something_fails(tmp_path):
    path = REPO / "tests/corpus/01_lstm_network/mistakes/first_step/lstm_network.py"
    result = CliRunner().invoke(main, ["grade", str(path), "--hints"])
    assert result.exit_code == 1
    assert "FIRST time step" in result.output
    assert "Hint 1 of" in result.output and "read as time" in result.output


def test_cli_single_file_json_counts_that_exercise_only(tmp_path):
    out = tmp_path / "r.json"
    path = REPO / "solutions/02_training_step/training.py"
    result = CliRunner().invoke(main, ["grade", str(path), "--json", str(out)])
    assert result.exit_code == 0
    assert json.loads(out.read_text())["max_score"] == 10


def test_cli_starters_exit_one_not_attempted():
    result = CliRunner().invoke(main, ["grade", str(REPO / "exercises")])
    assert result.exit_code == 1
    assert result.output.count("not attempted") >= 2 and "Total: 0/" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grade", "no/such/place"], "no such file or folder"),
        (["grade", str(REPO / "README.md")], "is not an exercise file"),
        (["grade", str(REPO)], "files named lstm_network.py under"),
        (["grade", str(REPO / "solutions"), "--exercise", "99_nope"], "no exercise '99_nope'"),
        (["grade", str(REPO / "solutions"), "--device", "gpu"], "Invalid value for '--device'"),
    ],
)
def test_cli_usage_errors_exit_two(args, message):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_missing_path_that_names_an_exercise_says_how_to_grade_it(tmp_path):
    named = CliRunner().invoke(main, ["grade", str(tmp_path / "03_lstm_cell")])
    assert named.exit_code == 2 and "03_lstm_cell: no such file or folder." in named.output
    assert "run `course grade --exercise 03_lstm_cell` in your workspace" in named.output
    other = CliRunner().invoke(main, ["grade", str(tmp_path / "notes")])
    assert other.exit_code == 2 and "no such file or folder." in other.output
    assert "To grade exercise" not in other.output


def test_two_copies_of_a_file_name_one_to_grade(tmp_path):
    """The way out of "found 2 files" is a command that grades exactly one of them."""
    for folder in ("01_lstm_network", "01_lstm_network/old"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "lstm_network.py").write_text("# a copy\n")
    result = CliRunner().invoke(main, ["grade", str(tmp_path)])
    assert result.exit_code == 2 and "found 2 files named lstm_network.py" in result.output
    suggested = re.search(r"`course grade ([^`]+)`", result.output).group(1)
    again = CliRunner().invoke(main, ["grade", suggested])
    assert again.exit_code == 1 and "found 2 files" not in again.output, again.output


def test_cli_exercise_filter(tmp_path):
    out = tmp_path / "r.json"
    args = ["grade", str(REPO / "solutions"), "--exercise", "02_training_step", "--json", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert [e["id"] for e in json.loads(out.read_text())["exercises"]] == ["02_training_step"]


def test_cli_delegates_options_to_the_core(monkeypatch):
    """The command only parses: the core receives exactly what was typed."""
    seen = {}

    def fake(path, **options):
        seen.update(options, path=path)
        return 0

    monkeypatch.setattr("course.commands.grade", fake)
    args = ["grade", "x", "--device", "cpu", "--timeout", "3", "--exercise", "a", "-v"]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert (str(seen["path"]), seen["device"], seen["exercises"], seen["timeout"]) == (
        "x", "cpu", ("a",), 3.0,
    )  # fmt: skip
    assert (seen["memory"], seen["hints"], seen["verbose"], seen["batch"]) == (
        4096,
        False,
        True,
        False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "junit"], "--format needs -o FILE"),
        (["--jobs", "2"], "--jobs goes with --batch"),
        (["--regrade"], "--regrade goes with --batch"),
    ],
)
def test_cli_option_combinations(args, message):
    result = CliRunner().invoke(main, ["grade", str(REPO / "solutions"), *args])
    assert result.exit_code == 2 and message in result.output


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--version"], 0, "course, version"),
        (["grade", "no/such/place"], 2, "Error: no/such/place: no such file or folder."),
        (["bogus"], 2, "No such command 'bogus'"),
        (["grade", str(REPO / "solutions/02_training_step/training.py")], 0, "Total: 10/10"),
        (["grade", str(REPO / "exercises/02_training_step")], 1, "not attempted"),
    ],
)
def test_the_console_script_exits_with_the_right_code_and_flushed_output(args, code, says):
    """`course` leaves with os._exit after torch was imported: nothing printed may be lost."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "course", *args], capture_output=True, text=True)
    assert run.returncode == code
    assert says in run.stdout + run.stderr
    assert "Traceback" not in run.stderr


@needs_symlinks
def test_a_symbolic_link_is_not_followed(module, zygote, tmp_path):
    """The checker reads files the learner cannot: a link must not make it quote them."""
    from grader.grade import grade

    secret = tmp_path / "secret.txt"
    secret.write_text("root:TOP-SECRET-HASH:19000\n")
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "lstm_network.py").symlink_to(secret)
    (ex,) = grade(module, folder / "lstm_network.py", zygote=zygote).exercises
    messages = failed_messages(ex)
    assert ex.score == 0 and "cannot read the file: it is a symbolic link" in messages
    assert "TOP-SECRET" not in messages + ex.output


def test_a_huge_file_is_refused(grade_source):
    result = grade_source(EX1, "x = 1\n" * 300_000)
    assert "cannot read the file: larger than 1024 KiB" in failed_messages(result)


@needs_fifos
def test_a_fifo_in_place_of_the_file_does_not_hang(module, zygote, tmp_path):
    from grader.grade import grade

    folder = tmp_path / EX1
    folder.mkdir()
    os.mkfifo(folder / "lstm_network.py")  # nobody ever writes: a blocking read hangs forever
    (ex,) = grade(module, folder, zygote=zygote).exercises
    assert ex.score == 0 and "cannot read the file: not a regular file" in failed_messages(ex)


@needs_posix_paths
def test_a_link_to_dev_zero_is_not_read(module, zygote, tmp_path):
    from grader.grade import grade

    folder = tmp_path / EX1
    folder.mkdir()
    (folder / "lstm_network.py").symlink_to("/dev/zero")
    (ex,) = grade(module, folder, zygote=zygote).exercises
    assert ex.score == 0 and "cannot read the file: it is a symbolic link" in failed_messages(ex)


@needs_byte_names
def test_a_folder_whose_name_is_not_utf8_is_graded(module, zygote, tmp_path):
    from grader.grade import grade
    from grader.report import terminal

    folder = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9 \xff"))
    folder.mkdir()
    (folder / "lstm_network.py").write_text(solution(module, EX1))
    report = grade(module, folder, zygote=zygote)
    by_id = {e.id: e for e in report.exercises}
    assert by_id[EX1].complete
    terminal(report).encode("utf-8")  # printable: no lone surrogate reaches the terminal


def test_an_unknown_probe_is_the_graders_error_not_the_learners(module, zygote, tmp_path):
    """An author's typo in a probe's name (or arguments) is reported as the grader's
    failure; the runner goes on serving."""
    from grader.confined.sandbox import Limits
    from grader.learner import GraderError, Learner

    path = tmp_path / "lstm_network.py"
    path.write_text(solution(module, EX1))
    learner = Learner(EX1, path, zygote, Limits(), hidden=())
    try:
        with pytest.raises(GraderError, match=r"no probe named 'lstm_network\.bulid'"):
            learner.probe("lstm_network.bulid", "Your LSTMNetwork", sizes=[3, 4, 1, 2])
        with pytest.raises(GraderError, match=r"probe lstm_network\.build called wrongly"):
            learner.probe("lstm_network.build", "Your LSTMNetwork", size=[3, 4, 1, 2])
        assert learner.probe("lstm_network.build", "Your LSTMNetwork", sizes=[3, 4, 1, 2])
    finally:
        learner.close()


def test_grading_starts_no_thread(module, zygote, monkeypatch):
    """pytest rewrites assertions with `ast`, which CPython 3.11 does not make safe across
    threads ("AST constructor recursion depth mismatch"): nothing may import on a thread
    while the checks are collected."""
    import threading

    from grader.grade import grade

    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread.name))
    path = module.exercise("02_training_step").solution
    (ex,) = grade(module, path, zygote=zygote).exercises
    assert ex.complete and started == []
