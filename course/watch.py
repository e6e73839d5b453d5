"""`course watch`: grade an exercise again each time its file is saved, with the grader kept
warm between saves (one zygote, torch and pytest imported once).

Two threads feed one queue: saves (each exercise file's status, polled: nothing is walked, so
no link is followed and a folder of any size costs nothing) and keys (h, n, l, q). The main
thread grades and prints. On a terminal it redraws the screen; elsewhere (a pipe, a test, an
editor's console) it prints plain lines only, one per grade.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import click

from course import learning
from course.progress import DONE, Progress, one_line, progress, table
from course.workspace import Workspace
from courseware.content import Exercise, Module
from courseware.errors import CourseError

KEYS = "keys: h next hint · n next exercise · l list · q quit"
POLL_SECONDS = 0.2  # how often the main thread looks up from an empty queue
FILE_POLL_SECONDS = 0.1  # how often the exercise files are looked at (a few stat calls)
SETTLE_SECONDS = 0.05  # a save in several writes is graded once, when it is whole


@dataclass
class Watcher:
    """One `course watch` session: the exercise in view and the warm grader."""

    module: Module
    workspace: Workspace
    current: Exercise
    screen: bool  # redraw a terminal, or print plain lines
    grader: object | None = None  # grader.grade.Grader, warm between saves
    failing: dict[str, str | None] = field(default_factory=dict)  # first failing check, by id
    events: queue.Queue = field(default_factory=queue.Queue)
    stop: threading.Event = field(default_factory=threading.Event)
    interrupted: threading.Event = field(default_factory=threading.Event)

    # ------------------------------------------------------------ grading

    def grade(self) -> None:
        """Grade the current exercise and show the result; survive anything the learner's
        file or the grader does."""
        from grader.grade import GradeOptions, Grader

        ex = self.current
        target = self.workspace.exercises / ex.id
        try:
            self.workspace.confined(self.workspace.file(ex))
        except (OSError, CourseError) as exc:  # never a file through a link out of it
            why = exc.message if isinstance(exc, CourseError) else exc.strerror
            click.echo(f"{ex.id}  not graded: {why}")
            return
        before = learning.fingerprints(self.module, self.workspace)
        try:
            self.grader = self.grader or Grader().start()
            options = GradeOptions(exercises=(ex.id,), device="cpu")
            report = self.grader.grade(self.module, target, options)
        except KeyboardInterrupt:
            raise
        except click.ClickException as exc:
            if self.interrupted.is_set():  # pytest turns Ctrl-C into "could not run"
                raise KeyboardInterrupt from None
            click.echo(f"{ex.id}  could not be graded: {exc.format_message()}")
            return
        except Exception as exc:  # the grader's own failure: restart it on the next save
            if self.interrupted.is_set():
                raise KeyboardInterrupt from None
            self._restart()
            click.echo(f"{ex.id}  grader error ({type(exc).__name__}: {exc}); save again to retry")
            return
        if self.interrupted.is_set():
            raise KeyboardInterrupt
        learning.remember(self.module, self.workspace, target, report, before)
        (result,) = report.exercises
        self.failing[result.id] = learning.first_failing(result)
        self._show(report)

    def _restart(self) -> None:
        if self.grader is not None:
            with contextlib.suppress(Exception):
                self.grader.close()
            self.grader = None

    def _show(self, report) -> None:
        from grader.report import NEXT_STEP, terminal

        (result,) = report.exercises
        line = f"{result.id}  {score_line(result)}"
        if not self.screen:
            click.echo(line)
            return
        click.clear()
        feedback = terminal(report).splitlines()
        click.echo("\n".join(line for line in feedback if line != NEXT_STEP))
        now = progress(self.module, self.workspace)
        click.echo(f"\n{line}\n{one_line(now)}")
        if result.complete:
            click.echo(self._offer_next(now))
        click.echo(KEYS)

    def _offer_next(self, now: Progress) -> str:
        nxt = self._next(now)
        if nxt is None:
            return "Full marks, and every exercise is done. Well done!"
        return f"Full marks! Press n for the next exercise, {nxt.id}."

    def _next(self, now: Progress) -> Exercise | None:
        """The first exercise after the current one that is not done, wrapping around."""
        order = list(self.module.exercises)
        start = order.index(self.current)
        states = {e.id: e.state for e in now.exercises}
        for ex in order[start + 1 :] + order[:start]:
            if states[ex.id] != DONE:
                return ex
        return None

    # ------------------------------------------------------------ keys

    def key(self, key: str) -> bool:
        """Act on a key; False to quit."""
        if key == "q":
            return False
        if key == "h":
            ex = self.current
            click.echo(learning.next_hint(ex, self.workspace.key, self.failing.get(ex.id)))
        elif key == "l":
            click.echo(table(progress(self.module, self.workspace)))
        elif key == "n":
            now = progress(self.module, self.workspace)
            self.current = self._next(now) or self.current
            self.grade()
        return True

    # ------------------------------------------------------------ files

    def run(self) -> None:
        """Grade now, then on every save and key until q or Ctrl-C."""
        self.grade()
        warm_up()  # saves made meanwhile wait in the queue
        while True:
            try:
                kind, value = self.events.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            pending = [(kind, value), *_drain(self.events)]
            if not self._handle(pending):
                return

    def _handle(self, pending: list[tuple[str, str]]) -> bool:
        """Keys in order; then one grade of the last exercise saved (saves come in bursts)."""
        saved = None
        for kind, value in pending:
            if kind == "key" and not self.key(value):
                return False
            if kind == "file":
                saved = self.module.exercise(value)
        if saved is not None:
            self.current = saved
            self.grade()
        return True


def warm_up() -> None:
    """Import now what the first real grade would (torch, pytest, the plugin), in the main
    thread: no import races pytest's assertion rewriting, and the first save is graded as fast
    as the next ones."""
    import pytest  # noqa: F401

    import grader.plugin  # noqa: F401
    from grader.confined import lazy_dynamo

    lazy_dynamo.install()


def score_line(result) -> str:
    """'10/10', '2.5/10', or 'not attempted (0/10)'."""
    max_score = f"{result.max_score:g}"
    if result.state == "not_attempted":
        return f"not attempted (0/{max_score})"
    return f"{result.score:g}/{max_score}"


def _drain(events: queue.Queue) -> list[tuple[str, str]]:
    drained = []
    with contextlib.suppress(queue.Empty):
        while True:
            drained.append(events.get_nowait())
    return drained


def _watch_files(watcher: Watcher) -> None:
    """Put ("file", exercise id) on the queue each time an exercise file changes: written in
    place, replaced by a rename, deleted or made again. Only the exercise files themselves
    are looked at (a few stat calls a poll), never through a link out of the workspace."""
    exercises = watcher.module.exercises
    last = {ex.id: _status(watcher.workspace, ex) for ex in exercises}
    while not watcher.stop.wait(FILE_POLL_SECONDS):
        changed = [ex for ex in exercises if _status(watcher.workspace, ex) != last[ex.id]]
        if not changed or watcher.stop.wait(SETTLE_SECONDS):
            continue
        for ex in changed:
            last[ex.id] = _status(watcher.workspace, ex)
            watcher.events.put(("file", ex.id))


def _status(workspace: Workspace, ex: Exercise) -> tuple | None:
    """What changes when the exercise's file is saved (None: no file to grade there)."""
    try:
        info = os.lstat(workspace.confined(workspace.file(ex)))
    except (OSError, CourseError):
        return None
    return info.st_mode, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _read_keys(watcher: Watcher) -> None:
    """Put ("key", k) on the queue for each key (a terminal) or line (a pipe) typed."""
    stream = sys.stdin
    if stream is None or stream.closed:
        return
    read = _key_reader(stream)
    while not watcher.stop.is_set():
        typed = read()
        if not typed:
            return  # EOF: keep watching files
        key = typed.strip()[:1].lower()
        if key:
            watcher.events.put(("key", key))


def _key_reader(stream) -> Callable[[], str]:
    """One key at a time on a terminal (msvcrt on Windows, which has no cbreak), else a line."""
    if not stream.isatty():
        return stream.readline
    if sys.platform == "win32":
        import msvcrt

        return msvcrt.getwch
    return lambda: stream.read(1)


@contextlib.contextmanager
def _keys_without_enter():
    """On a terminal, each key press arrives at once (cbreak), restored on the way out;
    Windows needs no mode (msvcrt reads keys as they are pressed)."""
    if not (sys.stdin and sys.stdin.isatty()) or sys.platform == "win32":
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(sys.stdin)
    try:
        tty.setcbreak(sys.stdin)
        yield
    finally:
        termios.tcsetattr(sys.stdin, termios.TCSADRAIN, saved)


def watch(exercise_id: str | None) -> None:
    """The body of `course watch`."""
    from courseware.content import load_module

    module = load_module()
    workspace = learning.learner_workspace(module) or learning.require_workspace()
    learning.default_target(module)  # says what is wrong with exercises/, if anything
    if exercise_id:
        current = module.exercise(exercise_id)
    else:
        first = progress(module, workspace).first_unfinished()
        current = module.exercise(first.id) if first else module.exercises[0]
    watcher = Watcher(module, workspace, current, screen=sys.stdout.isatty())
    click.echo(f"Watching {workspace.exercises}: save an exercise file to grade it. {KEYS}")

    def interrupt(signum, frame) -> None:
        watcher.interrupted.set()
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    threads = [
        threading.Thread(target=_watch_files, args=(watcher,), daemon=True),
        threading.Thread(target=_read_keys, args=(watcher,), daemon=True),
    ]
    try:
        with _keys_without_enter():
            for thread in threads:
                thread.start()
            watcher.run()
    finally:
        watcher.stop.set()
        watcher._restart()  # kills the zygote and every runner with it
        for sig, handler in previous.items():
            signal.signal(sig, handler)
