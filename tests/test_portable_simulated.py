"""The package on a system without Linux's APIs and without the POSIX-only parts of Python,
simulated (tests/fixtures/without_posix.py says what it takes away: os.fork, os.getuid,
os.killpg, signal.SIGKILL, the resource, fcntl, termios, tty and pwd modules, prctl through
ctypes, /proc, Popen's preexec_fn, and UTF-8 on a pipe). There every learner's command runs:
quiz, build, init, watch, progress, reset, and grading, which picks the portable backend by
itself (COURSE_SANDBOX unset) for a solution and a mistake."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="simulates macOS and Windows on Linux; there they are real"
)
SHIM = REPO / "tests" / "fixtures" / "without_posix.py"
# Not passed on: UTF-8 mode or a chosen encoding would hide the code page being simulated.
UTF8 = ("PYTHONUTF8", "PYTHONIOENCODING", "COURSE_SANDBOX")
EX1 = "01_lstm_network"
PROBE = """
import subprocess, sys
from grader import backend, portable
print(hasattr(backend.os, "fork"), hasattr(backend.os, "getuid"), hasattr(backend.os, "killpg"))
print(hasattr(portable.signal, "SIGKILL"), backend.os.path.isdir("/proc/self"))
for name in ("resource", "fcntl", "termios", "tty", "pwd"):
    try:
        __import__(name)
    except ImportError:
        print(name, "missing")
try:
    subprocess.Popen([sys.executable, "-c", ""], preexec_fn=print)
except ValueError:
    print("no preexec_fn")
print(backend.linux_unavailable(), sys.stdout.encoding)
"""


@pytest.fixture
def simulated(tmp_path):
    """Run `course ARGS` in the simulated system; returns the finished process (its output
    decoded as UTF-8, whatever the simulated code page)."""
    env = {k: v for k, v in os.environ.items() if k not in UTF8}
    env |= {"COURSE_DATA_DIR": str(tmp_path / "data"), "NO_COLOR": "1"}

    def run(*args: str, cwd=tmp_path, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(SHIM), *args], input=stdin, capture_output=True, text=True,
            encoding="utf-8", errors="replace", env=env, cwd=cwd, timeout=600,
        )  # fmt: skip

    return run


@pytest.fixture
def workspace(simulated, tmp_path):
    """A workspace made by `course init` in the simulated system."""
    made = simulated("init", "ws")
    assert made.returncode == 0, made.stdout + made.stderr
    return tmp_path / "ws"


def said(done: subprocess.CompletedProcess) -> str:
    return done.stdout + done.stderr


def test_the_shim_takes_away_what_it_says(tmp_path):
    code = "import runpy, sys\nrunpy.run_path(sys.argv[1])['simulate']()\nexec(sys.argv[2])\n"
    env = {k: v for k, v in os.environ.items() if k not in UTF8}
    argv = [sys.executable, "-c", code, str(SHIM), PROBE]
    done = subprocess.run(argv, capture_output=True, env=env, timeout=120)
    lines = done.stdout.decode("cp1252").splitlines()
    assert lines[:2] == ["False False False", "False False"], done.stderr
    missing = [line.split()[0] for line in lines[2:7]]
    assert missing == ["resource", "fcntl", "termios", "tty", "pwd"]
    assert lines[7] == "no preexec_fn"
    assert lines[8] == "os.fork is missing cp1252"


def test_quiz_build_and_progress_without_posix(simulated, workspace):
    assert simulated("--help").returncode == 0
    answers = "a\n1\n" * 80  # answers any question: unreadable answers are asked again
    quiz = simulated("quiz", "--count", "3", "--seed", "1", cwd=workspace, stdin=answers)
    assert quiz.returncode == 0 and "Saved to the quiz history" in quiz.stdout, said(quiz)
    history = simulated("quiz", "--history", cwd=workspace)
    assert history.returncode == 0 and "seed 1" in history.stdout, said(history)
    built = simulated("build", cwd=workspace)
    assert built.returncode == 0, said(built)
    assert (workspace / "_site" / "index.html").is_file()
    shown = simulated("progress", cwd=workspace)
    assert shown.returncode == 0 and "quiz " in shown.stdout, said(shown)


def test_grading_watch_and_reset_without_posix(simulated, workspace, tmp_path):
    folder = workspace / "exercises" / EX1
    good = (REPO / "solutions" / EX1 / "lstm_network.py").read_text(encoding="utf-8")
    # A learner's print of what no Windows code page has: their output, never their error.
    (folder / "lstm_network.py").write_text('print("✓ ≈")\n' + good, encoding="utf-8")
    report = tmp_path / "good.json"
    graded = simulated("grade", str(folder), "--format", "json", "-o", str(report), cwd=workspace)
    assert graded.returncode == 0, said(graded)
    assert "portable backend" in graded.stdout
    graded = json.loads(report.read_text(encoding="utf-8"))
    assert graded["isolation"]["backend"] == "portable"
    assert graded["score"] == graded["max_score"] > 0
    watched = simulated("watch", EX1, cwd=workspace, stdin="q\n")  # one grade, then q
    assert watched.returncode == 0, said(watched)
    assert f"{EX1}  {graded['score']:g}/{graded['max_score']:g}" in watched.stdout
    (folder / "lstm_network.py").write_text(good.replace("return", "return 0 *", 1))
    wrong = simulated("grade", str(folder), cwd=workspace)  # its report on a pipe: UTF-8
    assert wrong.returncode == 1, said(wrong)
    assert "✗" in wrong.stdout and "Traceback" not in said(wrong)
    reset = simulated("reset", EX1, "--yes", cwd=workspace)
    assert reset.returncode == 0, said(reset)
    assert "return 0 *" not in (folder / "lstm_network.py").read_text(encoding="utf-8")
