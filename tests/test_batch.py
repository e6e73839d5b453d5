"""Batch grading: a class into a gradebook that survives being killed, resumes without
counting anyone twice, opens zips safely and is not stopped by a hostile submission."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from course.cli import main
from grader.zygote import Zygote
from tests.helpers import (
    BATCH,
    EXERCISES_1_2,
    REPO,
    SOLUTIONS,
    learner,
    left_tagged,
    rows,
    tag_code,
)

# This run's learner processes name themselves so (never count the host's other runners).
TAG = f"bat{os.getpid()}"[:15]

CORPUS = REPO / "tests/corpus"


def class_of(folder: Path) -> Path:
    subs = folder / "subs"
    learner(subs, "ada", *SOLUTIONS)
    learner(subs, "bob", CORPUS / "01_lstm_network/mistakes/first_step/lstm_network.py")
    learner(subs, "cyd", CORPUS / "02_training_step/mistakes/no_zero_grad/training.py")
    with zipfile.ZipFile(subs / "dee.zip", "w") as zf:
        for f in SOLUTIONS:
            zf.write(f, f"dee/{f.name}")
    (subs / "eve.zip").write_bytes(b"this is not a zip")
    hang = learner(subs, "fay")
    hang_code = "def train_step(*args):\n    while True:\n        pass\n"
    (hang / "training.py").write_text(tag_code(TAG) + hang_code)
    with zipfile.ZipFile(subs / "gil.zip", "w") as zf:  # two copies: the one nearer the top
        zf.write(SOLUTIONS[0], f"gil/{SOLUTIONS[0].name}")
        zf.write(CORPUS / "01_lstm_network/mistakes/first_step/lstm_network.py",
                 f"gil/old/{SOLUTIONS[0].name}")  # fmt: skip
    return subs


def test_batch_grades_a_class_and_resumes(tmp_path):
    subs = class_of(tmp_path)
    book, table = tmp_path / "book.sqlite", tmp_path / "class.csv"
    args = [
        "grade",
        str(subs),
        *BATCH,
        "--jobs",
        "2",
        "--gradebook",
        str(book),
        "--csv",
        str(table),
        "--timeout",
        "1",
        *EXERCISES_1_2,
    ]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 1, first.output
    scores = dict(rows(book, "SELECT id, score FROM learners"))
    assert scores == {
        "ada": 20,
        "bob": scores["bob"],
        "cyd": scores["cyd"],
        "dee": 20,
        "eve": 0,
        "fay": 0,
        "gil": 10,
    }
    assert scores["bob"] < 10 and scores["cyd"] < 10
    (error,) = rows(book, "SELECT error FROM learners WHERE id = 'eve'")[0]
    assert "not a valid zip archive" in error
    (flags,) = rows(book, "SELECT file_flags FROM learners WHERE id = 'gil'")[0]
    assert "gil/old/lstm_network.py: not graded: gil/lstm_network.py, as close a match" in flags
    assert "Checks the class failed most:" in first.output and "Scores out of 20" in first.output
    assert "7 to grade.\n" in first.output and "--regrade" not in first.output
    with open(table) as f:
        table_rows = list(csv.DictReader(f))
    assert [r["learner"] for r in table_rows] == ["ada", "bob", "cyd", "dee", "eve", "fay", "gil"]
    assert table_rows[0]["01_lstm_network"] == "10" and table_rows[0]["total"] == "20"

    again = CliRunner().invoke(main, args)
    assert "skipped 7 already graded" in again.output
    (subs / "bob/lstm_network.py").write_bytes(SOLUTIONS[0].read_bytes())
    changed = CliRunner().invoke(main, args)
    assert "Graded 1 learner(s)" in changed.output and "skipped 6" in changed.output
    kept = "1 to grade, 6 already graded at their current content (--regrade grades them again)"
    assert kept in changed.output
    assert dict(rows(book, "SELECT id, score FROM learners"))["bob"] == 10
    regrade = CliRunner().invoke(main, [*args, "--regrade"])
    assert "Graded 7 learner(s)" in regrade.output and "7 to grade.\n" in regrade.output
    assert rows(book, "SELECT COUNT(*) FROM learners") == [(7,)]
    assert left_tagged(TAG) == []


def test_sigkill_half_way_loses_nothing_and_counts_nobody_twice(tmp_path):
    subs, tagged = tmp_path / "subs", tmp_path / "tagged"
    tagged.mkdir()
    for f in SOLUTIONS:  # runners that name themselves, to find any left after the kill
        (tagged / f.name).write_text(tag_code(TAG) + f.read_text())
    for i in range(8):
        learner(subs, f"l{i}", *sorted(tagged.iterdir()))
    book = tmp_path / "book.sqlite"
    argv = [
        sys.executable,
        "-m",
        "course",
        "grade",
        str(subs),
        *BATCH,
        "--jobs",
        "2",
        "--gradebook",
        str(book),
        *EXERCISES_1_2,
    ]
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    graded = 0
    while time.monotonic() < deadline and proc.poll() is None:
        graded = recorded(book)
        if graded >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None and 2 <= graded < 8, "the batch finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert left_tagged(TAG) == []
    kept = {r[0] for r in rows(book, "SELECT id FROM learners")}
    assert len(kept) >= 2
    checks_per_learner = set(rows(book, "SELECT COUNT(*) FROM checks GROUP BY learner"))
    assert len(checks_per_learner) == 1  # every recorded learner is recorded whole

    result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert f"skipped {len(kept)} already graded" in result.stdout
    assert rows(book, "SELECT COUNT(*), MIN(score), MAX(score) FROM learners") == [(8, 20.0, 20.0)]
    assert len(set(rows(book, "SELECT COUNT(*) FROM checks GROUP BY learner"))) == 1
    assert rows(
        book,
        "SELECT COUNT(*) FROM (SELECT learner, exercise, name FROM checks"
        " GROUP BY 1, 2, 3 HAVING COUNT(*) > 1)",
    ) == [(0,)]


def recorded(book: Path) -> int:
    """Learners in the gradebook so far (0 while the batch has not yet made its tables)."""
    try:
        return rows(book, "SELECT COUNT(*) FROM learners")[0][0]
    except sqlite3.OperationalError:
        return 0


def test_the_exercises_chosen_set_the_columns_and_the_resume_check(tmp_path):
    subs = tmp_path / "subs"
    learner(subs, "ada", *SOLUTIONS)
    learner(subs, "bob", CORPUS / "01_lstm_network/mistakes/first_step/lstm_network.py")
    book, table = tmp_path / "book.sqlite", tmp_path / "class.csv"
    args = ["grade", str(subs), *BATCH, "--jobs", "2", "--gradebook", str(book)]
    args += ["--csv", str(table), "--exercise", "01_lstm_network"]
    first = CliRunner().invoke(main, args)
    assert "Graded 2 learner(s)" in first.output
    with open(table) as f:
        header, ada, _ = list(csv.reader(f))
    assert header == ["learner", "01_lstm_network", "total", "max_score", "error", "flags"]
    assert ada[:4] == ["ada", "10", "10", "10"]  # out of the chosen exercise, not of 50
    both = CliRunner().invoke(main, [*args, "--exercise", "training.py"])  # its file names it
    assert "Graded 2 learner(s)" in both.output  # another choice: graded again
    with open(table) as f:
        header, ada, _ = list(csv.reader(f))
    assert header[1:3] == ["01_lstm_network", "02_training_step"] and ada[3:5] == ["20", "20"]


def test_a_class_is_not_graded_where_a_runner_would_lack_a_level(tmp_path, monkeypatch):
    """Where the runners here would lack an isolation level, the batch stops before anyone is
    graded (exit 2, naming it); --unsafe-no-isolation grades anyway."""
    monkeypatch.setattr(
        "grader.zygote.Zygote.isolation",
        lambda self, limits, namespaces=True: {"missing": ["a network namespace"], "notes": []},
    )
    subs = tmp_path / "subs"
    learner(subs, "ada", *SOLUTIONS)
    book = tmp_path / "book.sqlite"
    args = ["grade", str(subs), "--batch", "--jobs", "1", "--gradebook", str(book)]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2, refused.output
    assert "a network namespace" in refused.output and "--unsafe-no-isolation" in refused.output
    assert not book.exists() or recorded(book) == 0

    # Anyway, with runners that really lack namespaces: the summary and each report say so.
    spawn = Zygote.spawn
    monkeypatch.setattr(Zygote, "spawn", lambda z, spec: spawn(z, replace(spec, namespaces=False)))
    feedback = tmp_path / "feedback"
    unsafe = [*args, "--unsafe-no-isolation", "--feedback-dir", str(feedback)]
    graded = CliRunner().invoke(main, [*unsafe, "--exercise", "01_lstm_network"])
    assert graded.exit_code == 0, graded.output
    assert recorded(book) == 1
    assert "WARNING: 1 learner(s) graded with --unsafe-no-isolation" in graded.output
    assert "NOT confined by: " in graded.output and "a PID namespace" in graded.output
    report = json.loads((feedback / "ada.json").read_text())
    assert "a network namespace" in report["isolation"]["missing"]
    assert "NOT confined by: " in (feedback / "ada.txt").read_text()


def test_unsafe_no_isolation_goes_with_batch(tmp_path):
    result = CliRunner().invoke(main, ["grade", str(tmp_path), "--unsafe-no-isolation"])
    assert result.exit_code == 2 and "--unsafe-no-isolation goes with --batch" in result.output


def test_a_whole_class_zipped_is_told_to_unzip_first(tmp_path):
    (tmp_path / "class.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    result = CliRunner().invoke(main, ["grade", str(tmp_path / "class.zip"), *BATCH])
    assert result.exit_code == 2 and "Unzip it first: the class is a folder." in result.output
    assert "Traceback" not in result.output
