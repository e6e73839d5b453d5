"""`course quiz` in a real pseudo-terminal (pexpect): typed answers, colour on a terminal,
NO_COLOR, and Ctrl-C leaving the history as it was."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pexpect
import pytest

from course import history
from course.quiz import SUCH_AS
from tests.helpers import WIDE_BANK, make_course


@pytest.fixture
def course(tmp_path, monkeypatch) -> Path:
    root = make_course(tmp_path / "course")
    monkeypatch.setenv("COURSE_ROOT", str(root))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    return root


def spawn(*args: str, colour: bool = False, columns: int = 80) -> tuple[pexpect.spawn, io.StringIO]:
    """`python -m course quiz --no-shuffle ARGS` on a terminal, and everything it prints."""
    env = dict(os.environ)
    env.pop("COLUMNS", None)  # the terminal's own width decides
    if colour:
        env.pop("NO_COLOR", None)
    argv = ["-m", "course", "quiz", "--no-shuffle", *args]
    child = pexpect.spawn(
        sys.executable, argv, env=env, encoding="utf-8", timeout=30, dimensions=(24, columns)
    )
    child.logfile_read = transcript = io.StringIO()
    return child, transcript


def answer(child: pexpect.spawn, text: str) -> None:
    child.expect_exact("Your answer: ")
    child.sendline(text)


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_a_quiz_typed_in_a_terminal(course):
    child, transcript = spawn(colour=True)
    child.expect_exact("Question 1 of 4")
    answer(child, "B")
    child.expect_exact("On b: That is the batch.")
    answer(child, "a, b")
    child.expect_exact("Correct.")
    answer(child, "lots")
    child.expect_exact(f"Please type a number, {SUCH_AS}.")
    answer(child, "2560")
    answer(child, "  Forget  Gate ")
    child.expect_exact("Score: ")
    assert finish(child) == 0
    out = transcript.getvalue()
    assert "\x1b[" in out  # a terminal, and NO_COLOR unset: colour
    assert "3/4" in out
    assert "Review of the 1 missed:" in out
    (attempt,) = history.attempts(workspace=None)  # in any workspace
    assert [q.given for q in attempt.questions] == ["b", "a,b", "2560", "Forget  Gate"]


def test_no_color_in_a_terminal(course):
    child, transcript = spawn("--answers", "a;a,b;2560;forget")
    assert finish(child) == 0
    assert "Score: 4/4" in transcript.getvalue()
    assert "\x1b[" not in transcript.getvalue()


def test_ctrl_c_stops_cleanly_and_keeps_the_history(course):
    child, _ = spawn("--answers", "a;a,b;2560;forget")
    assert finish(child) == 0
    before = history.history_file().read_bytes()

    child, transcript = spawn()
    answer(child, "a")
    child.expect_exact("Question 2 of 4")
    child.expect_exact("Your answer: ")
    child.sendintr()
    child.expect_exact("Quiz stopped at question 2 of 4; nothing was saved.")
    assert finish(child) == 130
    assert "Traceback" not in transcript.getvalue()
    assert history.history_file().read_bytes() == before
    assert len(history.attempts(workspace=None)) == 1


def test_lines_fit_a_narrow_terminal(course):
    (course / "quizzes" / "tiny.yaml").write_text(WIDE_BANK)
    child, transcript = spawn("--answers", "b;a,b;2560;forget", columns=44)
    assert finish(child) == 0
    lines = transcript.getvalue().replace("\r", "").splitlines()
    assert "Score: 3/4" in lines
    assert [line for line in lines if len(line) > 44 and str(course.parent) not in line] == []
    assert max(len(line) for line in lines if str(course.parent) not in line) > 38
