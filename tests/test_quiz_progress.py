"""The quiz in `course progress`: each question's best answer over the whole bank, questions
never answered counted, attempts kept per workspace, and a history file read with bounds (a
crafted or damaged one is a warning or a clear error, never a traceback or a raw escape)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from course import history
from course.cli import main
from tests.helpers import make_course, needs_fifos

QUESTIONS = 4  # in the tiny course's bank: time-dim, sigmoid-gates, count, which-gate
RIGHT = "a;a,b;2560;forget gate"  # in the bank's order


@pytest.fixture
def course(tmp_path, monkeypatch) -> Path:
    """The tiny course, a clone: its own folder is the workspace, and the current folder."""
    root = make_course(tmp_path / "course")
    monkeypatch.setenv("COURSE_ROOT", str(root))
    monkeypatch.chdir(root)
    return root


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def quiz_progress() -> dict:
    result = run("progress", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["quiz"]


def quiz_line() -> str:
    result = run("progress")
    assert result.exit_code == 0, result.output
    (line,) = (line for line in result.stdout.splitlines() if line.strip().startswith("quiz "))
    return " ".join(line.split())


def take(*args: str) -> None:
    result = run("quiz", "--no-shuffle", *args)
    assert result.exit_code == 0, result.output


# --- the best over the whole bank ------------------------------------------------------------


def test_nothing_taken_yet(course):
    assert quiz_progress() == {"best": None, "max_score": QUESTIONS, "unanswered": QUESTIONS}
    assert quiz_line() == f"quiz not taken yet (0/{QUESTIONS})"


def test_one_question_answered_right_counts_one_point_not_the_whole_quiz(course):
    take("--count", "1", "--answers", "a")
    assert quiz_progress() == {"best": 1, "max_score": QUESTIONS, "unanswered": QUESTIONS - 1}
    assert quiz_line() == f"quiz 1/{QUESTIONS}, best answer to each question (3 never answered)"
    assert f"quiz 1/{QUESTIONS}," in run("progress").stdout.splitlines()[-1]


def test_each_question_counts_its_best_answer_from_any_attempt(course):
    take("--count", "2", "--answers", "a;a")  # 1 + 0.5 (one of the two right choices)
    take("--answers", "b;a,b;1;no idea")  # 0 + 1 + 0 + 0
    assert quiz_progress() == {"best": 2, "max_score": QUESTIONS, "unanswered": 0}
    assert quiz_line().endswith("(every question answered)")
    take("--answers", RIGHT)
    assert quiz_progress()["best"] == QUESTIONS


def test_history_is_kept_per_workspace(tmp_path, monkeypatch):
    root = make_course(tmp_path / "course")
    monkeypatch.setenv("COURSE_ROOT", str(root))
    for name in ("first", "second"):
        monkeypatch.chdir(tmp_path)
        assert run("init", name).exit_code == 0
    monkeypatch.chdir(tmp_path / "first")
    take("--answers", RIGHT)
    assert quiz_progress()["best"] == QUESTIONS
    assert "tiny  4/4" in run("quiz", "--history").stdout
    monkeypatch.chdir(tmp_path / "second" / "exercises")  # anywhere inside the workspace
    assert quiz_progress() == {"best": None, "max_score": QUESTIONS, "unanswered": QUESTIONS}
    listed = run("quiz", "--history").stdout
    assert f"No quiz attempts in {(tmp_path / 'second').resolve()} yet" in listed


def test_typed_text_is_kept_without_escape_sequences(course, tmp_path):
    report = tmp_path / "attempt.json"
    typed = "a;a,b;2560;\x1b[31mforget gate\x1b[2J\x07"
    result = run("quiz", "--no-shuffle", "--answers", typed, "--json", str(report))
    assert result.exit_code == 0 and "\x1b" not in result.output  # not even echoed
    given = json.loads(report.read_text())["questions"][3]["given"]
    assert given == "forget gate" and "\x1b" not in report.read_text()
    assert quiz_progress()["best"] == QUESTIONS  # the answer as typed, made safe, was right


# --- a history file that is crafted or damaged -------------------------------------------------


def outcome(question: str = "time-dim", credit: float = 1.0, given: str = "a") -> dict:
    return {"id": question, "objective": "shapes", "type": "single", "given": given,
            "expected": "a", "credit": credit, "correct": credit == 1}  # fmt: skip


def insert(key: str, questions: object, **columns) -> None:
    """A row written straight into the history, as a hand or a program other than ours would."""
    text = questions if isinstance(questions, str) else json.dumps(questions)
    row = {"bank": "tiny", "title": "Tiny quiz", "seed": None, "started": "2025-01-01T10:00:00",
           "finished": "2025-01-01T10:05:00", "score": 1.0, "max_score": 1, "workspace": key,
           "questions": text}  # fmt: skip
    row.update(columns)
    history.history_file().parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(history.history_file()) as db:
        db.execute(history.SCHEMA)
        db.execute(f"PRAGMA user_version = {history.SCHEMA_VERSION}")
        names = ", ".join(row)
        db.execute(f"INSERT INTO attempts ({names}) VALUES ({', '.join('?' * len(row))})",
                   list(row.values()))  # fmt: skip


def test_a_crafted_history_counts_only_the_rows_this_module_writes(course):
    key = str(course)
    insert(key, [outcome("count", 1.0)], title="\x1b]0;pwned\x07\x1b[2JTiny")  # a good row
    insert(key, [outcome("gone-from-the-bank", 1.0)])  # a question the bank no longer has
    insert(key, [outcome("time-dim", 1e308)], score=1e308)  # a score far above its maximum
    insert(key, [outcome("which-gate", 1.0)], score="lots")
    insert(key, [outcome("which-gate", -1.0)], score=-1.0)
    insert(key, [outcome("which-gate", 1.0), outcome("count")], score=2.0, max_score=1)
    insert(key, [outcome("sigmoid-gates", 1.0)], score=0.0)  # a score that is not its sum
    insert(key, [outcome("sigmoid-gates\x1b[2J", 1.0)])
    insert(key, [outcome("which-gate", 1.0)], finished="9999-12-31T23:59:59-14:00")  # no date
    insert(key, "[" * 100_000)  # nested too deep for the JSON reader
    insert(key, [outcome("sigmoid-gates", 1.0, given="x" * 10_000_000)])  # a giant row
    result = run("progress", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["quiz"] == {"best": 1, "max_score": 4, "unanswered": 3}
    assert "9 attempt(s)" in result.stderr and "are not counted" in result.stderr
    listed = run("quiz", "--history")
    assert listed.exit_code == 0 and "\x1b" not in listed.output
    assert listed.stdout.count("  tiny  1/1  100%") == 2  # the good row and the unknown id
    assert [a.title for a in history.attempts("tiny", key)] == ["Tiny", "Tiny quiz"]


def test_a_history_from_before_workspaces_is_upgraded_and_kept_apart(course):
    history.history_file().parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(history.history_file()) as db:
        db.execute(history.SCHEMA.replace(",\n    workspace TEXT NOT NULL DEFAULT ''", ""))
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO attempts (bank, title, seed, started, finished, score, "
                   "max_score, questions) VALUES ('tiny', 'T', NULL, '2025-01-01T10:00:00', "
                   f"'2025-01-01T10:00:00', 1, 1, '{json.dumps([outcome()])}')")  # fmt: skip
    assert quiz_progress()["best"] is None  # taken in no workspace: not this one's
    (old,) = history.attempts(workspace=history.NOWHERE)
    assert old.score == 1
    take("--count", "1", "--answers", "a")
    assert quiz_progress()["best"] == 1


def sparse(path: Path, size: int) -> None:
    with path.open("wb") as file:
        file.truncate(size)


@pytest.mark.parametrize(
    ("make", "says"),
    [
        pytest.param(lambda path: os.mkfifo(path), "not a regular file", marks=needs_fifos),
        (lambda path: sparse(path, 100 << 20), "larger than 64 MiB"),
        (lambda path: path.write_bytes(b"not a database" * 100), "file is not a database"),
    ],
    ids=["fifo", "sparse-giant", "damaged"],
)
def test_a_history_that_cannot_be_read_is_a_clear_error(course, make, says):
    history.history_file().parent.mkdir(parents=True, exist_ok=True)
    make(history.history_file())
    for command in (["progress"], ["quiz", "--history"]):
        result = run(*command)
        assert result.exit_code == 2, result.output
        assert f"could not read the quiz history {history.history_file()}" in result.output
        assert says in result.output and "Traceback" not in result.output


def test_a_history_from_a_newer_version_is_left_alone(course):
    history.history_file().parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(history.history_file()) as db:
        db.execute("PRAGMA user_version = 99")
    result = run("progress")
    assert result.exit_code == 2 and "written by a newer version of the course" in result.output


def test_a_crafted_view_cannot_make_a_read_run_for_ever(course, monkeypatch):
    monkeypatch.setattr(history, "READ_SECONDS", 0.2)
    history.history_file().parent.mkdir(parents=True, exist_ok=True)
    columns = ", ".join(f"CAST(x AS TEXT) AS {c}" for c in ("id", *history.COLUMNS, "workspace"))
    with sqlite3.connect(history.history_file()) as db:
        db.execute("CREATE VIEW attempts AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL "
                   f"SELECT x + 1 FROM n) SELECT {columns} FROM n WHERE x < 0")  # fmt: skip
        db.execute(f"PRAGMA user_version = {history.SCHEMA_VERSION}")
    result = run("progress")
    assert result.exit_code == 2, result.output
    assert "could not read the quiz history" in result.output and "interrupted" in result.output
