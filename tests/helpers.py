"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path
from typing import NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[1]


def solution(module, exercise_id: str) -> str:
    """The reference solution's source of an exercise."""
    return module.exercise(exercise_id).solution.read_text()


def failed_messages(result) -> str:
    """Every message of a result's checks that did not pass, one per line."""
    return "\n".join(c.message for c in result.checks if c.state != "passed")


WINDOWS = sys.platform == "win32"
# A class graded by --batch: under COURSE_SANDBOX=portable a batch refuses (exit 2) unless told
# that its runners are weaker, so there the batch tests say so, to grade a class on it too.
BATCH = ("--batch",)
if os.environ.get("COURSE_SANDBOX") == "portable":
    BATCH += ("--unsafe-no-isolation",)


def _may_link() -> bool:
    """Whether this process may make a symbolic link (Windows asks for a privilege)."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            os.symlink(folder, os.path.join(folder, "link"), target_is_directory=True)
        except OSError:
            return False
    return True


# What some systems lack, for the tests that need it: each skips elsewhere, saying why.
needs_fifos = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="Windows has no FIFOs")
needs_symlinks = pytest.mark.skipif(
    not _may_link(), reason="a symbolic link needs a privilege here (Windows: Developer Mode)"
)
needs_posix_paths = pytest.mark.skipif(
    WINDOWS, reason="POSIX device files and paths (/dev/zero, /etc) that Windows has not"
)
needs_posix_modes = pytest.mark.skipif(
    WINDOWS, reason="Windows keeps no POSIX permission bits and no umask"
)
needs_posix_shell = pytest.mark.skipif(
    WINDOWS, reason="POSIX shell lines (bash, sh scripts, redirections) as a Linux or macOS user"
)
needs_byte_names = pytest.mark.skipif(
    sys.platform != "linux", reason="file names that are not UTF-8: macOS and Windows refuse them"
)
needs_dev_full = pytest.mark.skipif(
    not os.path.exists("/dev/full"), reason="/dev/full (always full) is Linux's alone"
)


def fresh_clone(target: Path) -> Path:
    """The repository's files as a fresh clone has them (tracked, and new files not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.split(b"\0")  # fmt: skip
    for rel in filter(None, map(os.fsdecode, listed)):
        source = REPO / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).write_bytes(source.read_bytes())
    return target


def offline_venv(folder: Path) -> Path:
    """A venv that sees this environment's packages (torch, click, pip, ...) through a .pth
    file, without this checkout's `course`; returns its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    (site,) = folder.glob("Lib/site-packages" if WINDOWS else "lib/python*/site-packages")
    (site / "_course_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return folder / ("Scripts" if WINDOWS else "bin")


def venv_python(bin_dir: Path) -> Path:
    """The interpreter in a venv's bin folder (Scripts\\python.exe on Windows)."""
    return bin_dir / ("python.exe" if WINDOWS else "python")


def pip_install(bin_dir: Path, *args: str) -> None:
    """`pip install --no-deps ARGS` into the venv of `bin_dir`, offline."""
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv_python(bin_dir)), "install", "-q",
         "--no-deps", *args],
        check=True, capture_output=True,
    )  # fmt: skip


def build_wheel(source: Path, dist: Path) -> Path:
    """The course's wheel built from the checkout at `source` as README says, offline."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(dist), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = dist.glob("*.whl")
    return wheel


class InstalledCourse(NamedTuple):
    """A venv where the course is installed from its wheel."""

    bin: Path
    wheel: Path

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a shell in that venv: its `course` and `python` first, and the
        content found as a user's would be (no COURSE_ROOT; COURSE_DATA_DIR is kept)."""
        env = {k: v for k, v in os.environ.items() if k not in ("COURSE_ROOT", "VIRTUAL_ENV")}
        env.update(PATH=f"{self.bin}{os.pathsep}{env['PATH']}", NO_COLOR="1", **extra)
        return env


CONTENT = (
    "course.yaml",
    "starters.lock",
    "exercises",
    "solutions",
    "grader/checks",
    "lesson",
    "quizzes",
)


def content_copy(target: Path) -> Path:
    """A copy of the module's content (what `load_module` reads) that a test may break."""
    import shutil

    for name in CONTENT:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target / name)
    return target


# --- a tiny course of its own, for the quiz and progress tests ------------------------------

QUIZ_MANIFEST = """\
format_version: 1
module:
  course: Test course
  number: 1
  of: 1
  slug: tiny
  title: Tiny module
  level: Beginner
  duration_minutes: 5
  summary: A module for testing the quiz.
objectives:
  - {id: shapes, text: Predict shapes.}
  - {id: gates, text: Name the gates.}
  - {id: parameters, text: Count parameters.}
  - {id: training, text: Train.}
  - {id: other, text: Something else.}
prerequisites: [None]
lesson: lesson.md
exercises:
  - id: 01_tiny
    title: Tiny
    file: tiny.py
    points: 1
    objectives: [shapes]
    hints: [Try.]
quizzes:
  - quizzes/tiny.yaml
"""
QUIZ_FILES = {
    "lesson.md": "# Tiny\n",
    "exercises/01_tiny/README.md": "# Tiny\n",
    "exercises/01_tiny/tiny.py": "# TODO: write it\n",
    "solutions/01_tiny/tiny.py": "X = 1\n",
    "grader/checks/check_01_tiny.py": (
        "import pytest\n\n\n@pytest.mark.points(1)\ndef test_x():\n    pass\n"
    ),
}
BANK = """\
id: tiny
title: Tiny quiz
questions:
  - id: time-dim
    type: single
    objective: shapes
    prompt: Which dimension is time when batch_first is False?
    choices:
      - text: Dimension 0
      - text: Dimension 1
        feedback: That is the batch.
    answer: a
    explanation: Time comes first by default.
  - id: sigmoid-gates
    type: multiple
    objective: gates
    prompt: Which use the sigmoid?
    choices:
      - text: The forget gate
      - text: The input gate
      - text: The candidate
        feedback: The candidate uses tanh.
    answer: [a, b]
    partial_credit: right-minus-wrong
    explanation: Gates are fractions.
  - id: count
    type: numeric
    objective: parameters
    prompt: How many parameters has nn.LSTM(10, 20)?
    answer: 2560
    mistakes:
      - {answer: 640, feedback: One gate only.}
    explanation: Four blocks.
  - id: which-gate
    type: text
    objective: gates
    prompt: Which gate is f_t?
    answer: forget gate
    accept: [forget]
    mistakes:
      - {answer: input gate, feedback: The input gate is i_t.}
    explanation: f for forget.
"""


def make_course(root: Path, bank: str = BANK) -> Path:
    """A minimal valid course at `root` whose only quiz bank is `bank`."""
    from courseware.content import approve_starters

    for rel, text in {
        "course.yaml": QUIZ_MANIFEST,
        "quizzes/tiny.yaml": bank,
        **QUIZ_FILES,
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    approve_starters(root)
    return root


LONG = "word " * 30 + "`pack_padded_sequence(x, lengths, batch_first=True)` " + "end " * 20
WIDE_BANK = BANK.replace(
    "prompt: Which dimension is time when batch_first is False?", f"prompt: {LONG}"
).replace("feedback: That is the batch.", f"feedback: {LONG}")


# ------------------------------------------------------------------ a class (batch grading)

SOLUTIONS = (
    REPO / "solutions/01_lstm_network/lstm_network.py",
    REPO / "solutions/02_training_step/training.py",
)
MISTAKE_1 = REPO / "tests/corpus/01_lstm_network/mistakes/first_step/lstm_network.py"
EXERCISES_1_2 = ("--exercise", "01_lstm_network", "--exercise", "02_training_step")


def learner(subs: Path, name: str, *files: Path, names: tuple[str, ...] = ()) -> Path:
    """A learner's folder in the class folder `subs`: a copy of each file, under its own
    name or the one `names` gives in the same place (a path inside the folder)."""
    folder = subs / name
    folder.mkdir(parents=True)
    for f, as_name in zip(files, names or [f.name for f in files], strict=True):
        (folder / as_name).parent.mkdir(parents=True, exist_ok=True)
        (folder / as_name).write_bytes(f.read_bytes())
    return folder


def zipped(subs: Path, name: str, *files: Path, names: tuple[str, ...] = ()) -> Path:
    """A learner's .zip in `subs`: each file under NAME/ (or the path `names` gives)."""
    import zipfile

    with zipfile.ZipFile(subs / f"{name}.zip", "w") as zf:
        for f, as_name in zip(files, names or [f"{name}/{f.name}" for f in files], strict=True):
            zf.write(f, as_name)
    return subs / f"{name}.zip"


def rows(db: Path, sql: str) -> list[tuple]:
    """The rows of `sql` in the SQLite file `db`."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


# ------------------------------------------------- a Dask cluster from the command line

SCHEDULER_SATURATION = {"DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}


class DaskCluster(NamedTuple):
    """A scheduler and workers started with `dask scheduler` and `dask worker`."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]
    logs: Path

    def client(self):
        """A Dask client of this cluster (close it), for what a test does beside `course`."""
        from distributed import Client

        return Client(self.address, timeout=30, set_as_default=False)


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int, nanny: bool = True, threads: int = 1, **env: str):
    """`dask scheduler` and `workers` × `dask worker --nthreads THREADS`, listening on 127.0.0.1
    only, with `env` added to their environment (the scheduler's config: one learner per
    worker at a time). Every process started here is killed at the end, with its group."""
    dask = str(Path(sys.executable).parent / "dask")
    file, logs = folder / "scheduler.json", folder / "dask-logs"
    logs.mkdir(parents=True)
    env = {**os.environ, **SCHEDULER_SATURATION, **env}
    started: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> subprocess.Popen:
        with open(logs / f"{name}.log", "wb") as log:
            process = subprocess.Popen(
                [dask, *args], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        started.append(process)
        return process

    try:
        scheduler = start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0",
                          "--no-dashboard", "--scheduler-file", str(file))  # fmt: skip
        address = _scheduler_address(file, scheduler)
        extra = ["--nthreads", str(threads), *([] if nanny else ["--no-nanny"])]
        for i in range(workers):
            start(f"worker-{i}", "worker", address, "--host", "127.0.0.1", "--no-dashboard",
                  "--death-timeout", "60", "--name", f"w{i}", *extra)  # fmt: skip
        cluster = DaskCluster(address, scheduler, started[1:], logs)
        if workers:
            with cluster.client() as client:
                client.wait_for_workers(workers, timeout=120)
        yield cluster
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _scheduler_address(file: Path, scheduler: subprocess.Popen) -> str:
    """The address the scheduler wrote to its file, once it has."""
    import json
    import time

    for _ in range(1200):
        if scheduler.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {scheduler.returncode}")
        with contextlib.suppress(OSError, ValueError, KeyError):
            return json.loads(file.read_text())["address"]
        time.sleep(0.1)
    raise RuntimeError("dask scheduler wrote no address in 120 s")


# Processes a test's learner code started, found by the name it gave them: comm, which its
# children inherit and nothing else on the machine shares (never count processes of the host).
def tag_code(tag: str) -> str:
    """Learner code that names its process `tag` (at most 15 characters)."""
    return f"import ctypes\nctypes.CDLL(None).prctl(15, {tag.encode()!r}, 0, 0, 0)\n"


def tagged(tag: str) -> list[int]:
    """Live processes (not zombies) whose name starts with `tag`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            name = (entry / "comm").read_text().strip()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if name.startswith(tag) and state != "Z":
            found.append(int(entry.name))
    return found


def wait_for_tagged(tag: str, seconds: float = 60) -> list[int]:
    """The processes named `tag`, once there is one (or [] after `seconds`)."""
    deadline = time.monotonic() + seconds
    while not (found := tagged(tag)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def left_tagged(tag: str, seconds: float = 10) -> list[int]:
    """The processes named `tag` still alive after `seconds` (then killed, so that a failing
    test leaves nothing behind)."""
    deadline = time.monotonic() + seconds
    while tagged(tag) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = tagged(tag)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return left


WATCH_LINE_SECONDS = 60  # a generous bound on one grade on a loaded machine; not a speed assertion


def course_watch(workspace: Path, *args: str) -> subprocess.Popen:
    """`course watch ARGS` as a learner starts it in `workspace`, without a terminal (plain
    lines), in its own session so that a test can stop it and everything it started."""
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "course", "watch", *args],
        cwd=workspace, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip


def read_until(proc: subprocess.Popen, wanted: str) -> list[str]:
    """The lines `proc` prints up to and including the first that starts with `wanted`."""
    import time

    lines, deadline = [], time.monotonic() + WATCH_LINE_SECONDS
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith(wanted):
            return lines
    raise AssertionError(f"no line starting {wanted!r}; saw:\n" + "\n".join(lines))


def no_internal_error(result) -> None:
    """The learner's code never makes the grader report a failure of its own."""
    from grader.results import ERROR

    assert [c.title for c in result.checks if c.state == ERROR] == []
    assert "not your fault" not in failed_messages(result)


def bounded(result, limit: int = 20_000) -> None:
    """No message or detail of any check carries more than `limit` characters."""
    for check in result.checks:
        assert len(check.message) < limit and len(check.detail) < limit, check.title


def no_traceback(result) -> None:
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def exercise_file(module, workspace: Path, exercise_id: str) -> Path:
    ex = module.exercise(exercise_id)
    return workspace / "exercises" / ex.id / ex.file


# The hostile-code tests' shared pieces.
EX1 = "01_lstm_network"
FAST = {"request_seconds": 2.0, "exercise_seconds": 20.0}

# A network with the right structure whose forward is wrong: hostile code must not rescue it.
WRONG = textwrap.dedent(
    """
    import torch
    import torch.nn as nn


    class LSTMNetwork(nn.Module):
        def __init__(self, input_size, hidden_size, num_layers, output_size):
            super().__init__()
            self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
            self.fc = nn.Linear(hidden_size, output_size)
            self.out = output_size

        def forward(self, x):
            trick(x)
            shape = (*x.shape[:-2], self.out)
            return torch.zeros(shape, dtype=x.dtype) + 0 * self.fc.bias.sum()
    """
)


def runner_processes(uids: set[int]) -> list[int]:
    """Live processes owned by one of these runner uids (never the host's other runners)."""
    from grader.confined.sandbox import UNPRIVILEGED_BASE_UID

    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                uid = int((entry / "status").read_text().split("\nUid:")[1].split()[0])
            except (OSError, IndexError, ValueError):
                continue
            if uid >= UNPRIVILEGED_BASE_UID and uid in uids:
                found.append(int(entry.name))
    return found


def assert_nothing_left(zygote) -> None:
    """No process of `zygote`'s runners is left (counted by their uids, never host-wide)."""
    from grader.confined.sandbox import runner_uid

    uids = {runner_uid(pid) for pid in zygote.spawned}
    deadline = time.monotonic() + 3
    while runner_processes(uids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runner_processes(uids) == []


def python_world_readable() -> bool:
    from grader.confined.sandbox import _world_readable

    return all(_world_readable(p) for p in sys.path if p and os.path.isdir(p))


def unsafe(text: str) -> list[str]:
    """What no writer may emit (the sanitiser's promise): control characters but newline and
    tab, surrogates, and what XML 1.0 forbids."""
    import unicodedata

    return [
        c
        for c in text
        if (unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t")
        or c in "\ufffe\uffff\u202e"
    ]


def failed_message(result, check: str) -> str:
    """The message of the named check of a graded exercise (its CPU run), which must have
    failed."""
    (found,) = [c for c in result.checks if c.name.split("[")[0] == check and c.device != "cuda"]
    assert found.state == "failed", (found.state, found.message)
    return found.message


def edited(text: str, old: str, new: str) -> str:
    """`text` with `old`, which it holds once, replaced by `new`: a solution made a mistake."""
    assert text.count(old) == 1, old
    return text.replace(old, new)
