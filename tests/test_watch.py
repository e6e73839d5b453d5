"""`course watch` as a learner runs it: a real process in a `course init` workspace, its output
read line by line (no terminal, so plain lines), files saved the ways editors save them."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

LINE_SECONDS = 60  # a generous bound on one grade on a loaded machine; not a speed assertion


class Watch:
    """A running `course watch`, its lines on a queue."""

    def __init__(self, workspace: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "course", "watch", *args],
            cwd=workspace,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_line(self, startswith: str = "") -> str:
        """The next line that starts with `startswith` (skipping others)."""
        deadline = time.monotonic() + LINE_SECONDS
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            self.seen.append(line)
            if line.startswith(startswith):
                return line
        raise AssertionError(f"no line starting {startswith!r}; saw:\n" + "\n".join(self.seen))

    def send(self, text: str) -> None:
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def descendants(self) -> set[int]:
        return _descendants(self.proc.pid)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    subprocess.run([sys.executable, "-m", "course", "init"], check=True, capture_output=True)
    return tmp_path / "lstm-course"


@pytest.fixture
def watch(workspace):
    running: list[Watch] = []

    def start(*args: str) -> Watch:
        running.append(Watch(workspace, *args))
        return running[-1]

    yield start
    for w in running:
        w.close()


def save_like_an_editor(path: Path, text: str) -> None:
    """Write a temporary file beside `path`, then rename it over (vim, VS Code, JetBrains)."""
    tmp = path.with_name(f".{path.name}.swp~")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_watch_grades_each_save_and_survives_what_a_learner_throws_at_it(module, workspace, watch):
    ex = module.exercise("01_lstm_network")
    path = workspace / "exercises" / ex.id / ex.file
    w = watch()
    assert w.next_line(ex.id) == f"{ex.id}  not attempted (0/10)"

    path.write_text("import torch\nraise RuntimeError('boom at import')\n")  # does not import
    assert w.next_line(ex.id) == f"{ex.id}  0/10"

    path.write_text("import os\nos.kill(os.getpid(), 9)\n")  # the runner crashes
    assert w.next_line(ex.id) == f"{ex.id}  0/10"

    path.write_text("while True:\n    pass\n")  # hangs on import: the timeout ends it
    assert w.next_line(ex.id) == f"{ex.id}  0/10"

    path.unlink()  # editors that delete, then write a new file
    assert w.next_line(ex.id) == f"{ex.id}  not attempted (0/10)"
    save_like_an_editor(path, ex.solution.read_text())
    assert w.next_line(ex.id) == f"{ex.id}  10/10"

    other = module.exercise("02_training_step")
    save_like_an_editor(workspace / "exercises" / other.id / other.file, "x = 1\n")
    assert w.next_line(other.id) == f"{other.id}  0/10"  # switched to the file saved

    w.send("h\n")
    assert w.next_line("Hint 1 of").endswith(f"for {other.id}:")
    w.send("q\n")
    assert w.proc.wait(timeout=LINE_SECONDS) == 0


def test_watch_starts_on_the_first_exercise_not_done(module, workspace, watch):
    first = module.exercise("01_lstm_network")
    (workspace / "exercises" / first.id / first.file).write_text(first.solution.read_text())
    subprocess.run(
        [sys.executable, "-m", "course", "grade", f"exercises/{first.id}"],
        cwd=workspace,
        check=True,
        capture_output=True,
    )
    w = watch()
    assert w.next_line("02_") == "02_training_step  not attempted (0/10)"
    w.send("n\n")
    assert w.next_line("03_") == "03_lstm_cell  not attempted (0/12)"


def test_ctrl_c_leaves_no_process_behind(module, workspace, watch):
    ex = module.exercise("01_lstm_network")
    path = workspace / "exercises" / ex.id / ex.file
    w = watch(ex.id)
    w.next_line(ex.id)
    path.write_text("import time\ntime.sleep(60)\n")  # a runner is busy when Ctrl-C comes
    time.sleep(3)
    family = w.descendants()
    assert family, "the zygote and a runner should be running"
    os.killpg(w.proc.pid, signal.SIGINT)
    assert w.proc.wait(timeout=LINE_SECONDS) in (1, 130)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in family) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in family if _alive(p)]
