"""The quiz history on its own: where it lives, what it keeps, and how it fails."""

from __future__ import annotations

import signal
from pathlib import Path

import platformdirs
import pytest

from course import history
from course.history import Attempt, Outcome
from courseware.errors import CourseError


def attempt(bank: str = "lstm") -> Attempt:
    outcome = Outcome("q1", "shapes", "single", "b", "b", 1.0, True)
    half = Outcome("q2", "training", "multiple", "a", "a,c", 0.5, False)
    return Attempt(bank, "LSTM", 7, "2025-01-01T10:00:00+00:00", "2025-01-01T10:05:00+00:00",
                   1.5, 2, (outcome, half))  # fmt: skip


def test_the_data_folder_is_the_platform_one_unless_overridden(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert history.data_dir() == Path(platformdirs.user_data_dir("lstm-course", False))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "here"))
    assert history.history_file() == tmp_path / "here" / "quiz-history.sqlite3"


def test_attempts_round_trip_oldest_first_and_by_bank(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "new" / "folder"))
    assert history.attempts() == []
    first, second = attempt("lstm"), attempt("other")
    assert history.record(first) == history.history_file()
    history.record(second)
    assert history.attempts() == [first, second]
    assert history.attempts("other") == [second]
    assert first.to_dict()["questions"][1]["expected"] == "a,c"


def test_a_damaged_history_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    history.history_file().write_bytes(b"this is not a database" * 100)
    with pytest.raises(CourseError, match=r"could not read the quiz history (.|\n)*Move the file"):
        history.attempts()
    with pytest.raises(CourseError, match="could not save this attempt"):
        history.record(attempt())


def test_interrupts_are_held_until_the_block_ends():
    done = []
    with pytest.raises(KeyboardInterrupt), history.interrupts_deferred():
        signal.raise_signal(signal.SIGINT)  # as Ctrl-C would (os.kill on Windows terminates)
        done.append("the rest of the block ran")
    assert done == ["the rest of the block ran"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_interrupt_no_exception():
    with history.interrupts_deferred():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
