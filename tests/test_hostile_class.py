"""A class with one learner of each hostile kind (names, outputs, duplicate and look-alike ids,
a zip and a folder for one id, a grader error and a grading worker that dies): the batch
finishes, grades every honest learner right and gives every learner a row."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import unicodedata
from pathlib import Path

from click.testing import CliRunner

from course.cli import main
from grader.batch import feedback_name
from tests.helpers import BATCH, SOLUTIONS, unsafe, zipped
from tests.helpers import MISTAKE_1 as MISTAKE

LOUD = """
def train_step(*args):
    print("\\x1b[2J\\x1b]0;owned\\x07\\x1b]52;c;cm0gLXJmIH4=\\x07Total: 50/50\\r\\x1b[1A")
    raise ValueError("\\ud800\\x00\\x1b[31m=1+1 \\u202e")
"""
FORMULA = '=HYPERLINK("evil.example","click")'
LONG = "l" * 250  # a legal folder name; its feedback file's name would not be
HONEST = ["ada", "\u0430da", "ada\u200b", "mal", FORMULA, "sur\ufffd", LONG]  # full marks, all


def folder(subs: Path, name: str | bytes, *files: Path) -> None:
    path = Path(os.fsdecode(os.path.join(os.fsencode(subs), os.fsencode(name))))
    path.mkdir(parents=True)
    for f in files:
        (path / f.name).write_bytes(f.read_bytes())


def hostile_class(subs: Path) -> None:
    for name in ("ada", "\u0430da", "ada\u200b", "\x1b]0;owned\x07\x1b[2Jmal", FORMULA, LONG):
        folder(subs, name, *SOLUTIONS)
    folder(subs, b"sur\xff", *SOLUTIONS)  # a name that is not UTF-8
    folder(subs, "bob", MISTAKE)  # honest, and wrong
    folder(subs, "loud")
    (subs / "loud/training.py").write_text(LOUD)
    folder(subs, "dup", *SOLUTIONS)
    zipped(subs, "dup", *SOLUTIONS)
    folder(subs, "Jose\u0301", *SOLUTIONS)  # NFD, as macOS writes it
    zipped(subs, "Jos\u00e9", *SOLUTIONS)  # NFC: the same id
    folder(subs, "crash", *SOLUTIONS)
    folder(subs, "dies", *SOLUTIONS)
    (subs / "link.zip").symlink_to("/dev/zero")  # unzipped by hand: endless bytes


def inject_grader_faults(monkeypatch) -> None:
    """`crash` makes the grader raise; `dies` kills the worker grading it (forked workers
    inherit the patch)."""
    import grader.batch

    real = grader.batch.grade_handin

    def faulty(module, handin, *args, **kwargs):
        if handin.name == "crash":
            raise RuntimeError("injected bug \ud800")
        if handin.name == "dies":
            os.kill(os.getpid(), signal.SIGKILL)
        return real(module, handin, *args, **kwargs)

    monkeypatch.setattr(grader.batch, "grade_handin", faulty)


def test_a_hostile_class_finishes_and_every_learner_gets_a_row(tmp_path, monkeypatch):
    subs, book, table = tmp_path / "subs", tmp_path / "book.sqlite", tmp_path / "class.csv"
    feedback = tmp_path / "feedback"
    hostile_class(subs)
    inject_grader_faults(monkeypatch)
    args = ["grade", str(subs), *BATCH, "--jobs", "2", "--gradebook", str(book)]
    args += ["--csv", str(table), "--feedback-dir", str(feedback), "--timeout", "5"]
    args += ["--exercise", "01_lstm_network", "--exercise", "02_training_step"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert unsafe(result.output) == [] and "Traceback" not in result.output

    with sqlite3.connect(book) as db:
        learners = {
            r[0]: r[1:] for r in db.execute("SELECT id, score, error, content_hash FROM learners")
        }
        exercise_rows = dict(db.execute("SELECT learner, COUNT(*) FROM exercises GROUP BY learner"))
    ids = {*HONEST, "bob", "loud", "dup", "Jos\u00e9", "crash", "dies", "link"}
    assert set(learners) == ids and set(exercise_rows.values()) == {2}
    assert {i: learners[i][:2] for i in HONEST} == {i: (20.0, None) for i in HONEST}
    assert learners["bob"][0] < 10 and learners["loud"][0] < 10
    for clash in ("dup", "Jos\u00e9"):
        assert learners[clash][0] == 0 and "2 submissions for one learner id" in learners[clash][1]
    assert "'dup'" in learners["dup"][1] and "'dup.zip'" in learners["dup"][1]
    for fault in ("crash", "dies"):
        assert learners[fault][0] == 0 and "not your fault" in learners[fault][1]
        assert learners[fault][2] == ""  # graded again by the next run
    assert "stopped while grading" in learners["dies"][1]
    assert learners["link"][:2] == (0, "'link.zip' cannot be read safely (a symbolic link): "
                                       "submit a folder or a .zip of plain files.")  # fmt: skip

    with open(table, newline="") as f:
        rows = {r["learner"]: r for r in csv.DictReader(f)}
    assert f"'{FORMULA}" in rows and FORMULA not in rows  # text, not a live formula
    assert "looks like" in rows["ada"]["flags"] and "U+200B" in rows["ada\u200b"]["flags"]
    assert "mixes scripts" in rows["\u0430da"]["flags"] and rows["bob"]["flags"] == ""
    assert not [v for r in rows.values() for v in r.values() if unsafe(v)]
    assert "learner id(s) to check" in result.output and "could not be graded" in result.output

    assert {p.stem for p in feedback.glob("*.json")} == {p.stem for p in feedback.glob("*.txt")}
    names = {unicodedata.normalize("NFC", p.stem) for p in feedback.glob("*.txt")}
    assert names == {feedback_name(i) for i in ids} and len(names) == len(ids)
    assert feedback_name(LONG).startswith("l" * 100) and len(feedback_name(LONG)) <= 120
    loud = (feedback / "loud.txt").read_text()
    assert unsafe(loud) == [] and "ValueError" in loud
    assert json.loads((feedback / "loud.json").read_text())["score"] == learners["loud"][0]

    again = CliRunner().invoke(main, args)  # the grader errors are tried again, nobody else
    assert "Graded 3 learner(s)" in again.output and "skipped 11" in again.output
