"""Quiz history: every finished attempt, kept in one SQLite file in the user's data folder.

Each attempt is one row written in one transaction, so the file holds whole attempts only: an
interrupted or crashed run leaves it as it was. `COURSE_DATA_DIR` moves the folder (tests use it).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import platformdirs

from courseware.errors import CourseError

ENV = "COURSE_DATA_DIR"
APP = "lstm-course"
FILENAME = "quiz-history.sqlite3"
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    bank TEXT NOT NULL,
    title TEXT NOT NULL,
    seed INTEGER,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    score REAL NOT NULL,
    max_score INTEGER NOT NULL,
    questions TEXT NOT NULL
)
"""
COLUMNS = ("bank", "title", "seed", "started", "finished", "score", "max_score", "questions")


@dataclass(frozen=True)
class Outcome:
    """How one question went: what was typed, what was right, and the credit given."""

    id: str
    objective: str
    type: str
    given: str
    expected: str
    credit: float
    correct: bool


@dataclass(frozen=True)
class Attempt:
    """One finished quiz; also the shape of `course quiz --json FILE`."""

    bank: str
    title: str
    seed: int | None
    started: str  # ISO 8601, UTC
    finished: str
    score: float
    max_score: int
    questions: tuple[Outcome, ...]

    def to_dict(self) -> dict:
        return asdict(self)


def data_dir() -> Path:
    """$COURSE_DATA_DIR, else the platform's user data folder for this course."""
    env = os.environ.get(ENV)
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir(APP, False))


def history_file() -> Path:
    return data_dir() / FILENAME


def _usable_history_file() -> Path:
    return usable_data_dir() / FILENAME


def usable_data_dir() -> Path:
    """The data folder, or a CourseError when something that is not a folder is in its place."""
    folder = data_dir()
    try:
        if folder.exists() and not folder.is_dir():
            raise CourseError(NOT_A_FOLDER.format(path=folder, env=ENV))
    except OSError as exc:
        raise CourseError(CANNOT_REACH.format(path=folder, error=exc.strerror, env=ENV)) from None
    return folder


def advice(exc: BaseException, env: str = ENV) -> str:
    """What to do about a database error: wait for a lock, else move the file or the folder."""
    if isinstance(exc, PermissionError):
        return f"Check the permissions of the data folder and its files, or set {env} elsewhere."
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return LOCKED
    if "readonly" in text or "read-only" in text:
        return f"The file or its folder is read-only: set {env} to a folder you can write to."
    return ""


def check_writable() -> Path:
    """Raise a CourseError now, before any question, when an attempt could not be saved."""
    path = _usable_history_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            with tempfile.TemporaryFile(dir=path.parent):
                pass
            return path
        with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")  # the lock a save takes: fails if it would
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            db.execute("ROLLBACK")
    except (OSError, sqlite3.Error) as exc:
        why = getattr(exc, "strerror", None) or exc
        more = advice(exc) or f"Set {ENV} to a folder you can write to, or move the file away."
        raise CourseError(CANNOT_SAVE.format(path=path, error=why, advice=more)) from None
    return path


def record(attempt: Attempt) -> Path:
    """Append `attempt` to the history in one transaction; return the history file."""
    path = _usable_history_file()
    row = asdict(attempt)
    row["questions"] = json.dumps(row["questions"])
    insert = f"INSERT INTO attempts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(_connect(path)) as db, db:
            db.execute(insert, [row[c] for c in COLUMNS])
    except (OSError, sqlite3.Error) as exc:
        more = advice(exc) or f"Set {ENV} to a folder you can write to."
        raise CourseError(CANNOT_WRITE.format(path=path, error=exc, advice=more)) from exc
    return path


def attempts(bank: str | None = None) -> list[Attempt]:
    """Past attempts, oldest first, of one bank or of all."""
    path = _usable_history_file()
    query = f"SELECT {', '.join(COLUMNS)} FROM attempts"
    try:
        if not path.is_file():
            return []
        with closing(_connect(path)) as db:
            rows = db.execute(*_filtered(query, bank)).fetchall()
    except (OSError, sqlite3.Error) as exc:
        why = getattr(exc, "strerror", None) or exc
        more = advice(exc) or CANNOT_READ_NEXT.format(env=ENV)
        raise CourseError(CANNOT_READ.format(path=path, error=why, advice=more)) from exc
    found = [_attempt(row) for row in rows]
    kept = [a for a in found if a is not None]
    if len(kept) < len(found):  # hand-edited or damaged rows: left in the file, not counted
        damaged = len(found) - len(kept)
        click.echo(f"Warning: {DAMAGED_ROWS.format(n=damaged, path=path)}", err=True)
    return kept


def _filtered(query: str, bank: str | None) -> tuple[str, tuple]:
    if bank is None:
        return f"{query} ORDER BY id", ()
    return f"{query} WHERE bank = ? ORDER BY id", (bank,)


def _attempt(row: tuple) -> Attempt | None:
    """The attempt of one row, or None when the row is not one this module wrote."""
    from datetime import datetime

    try:
        fields = dict(zip(COLUMNS, row, strict=True))
        fields["questions"] = tuple(Outcome(**q) for q in json.loads(fields["questions"]))
        attempt = Attempt(**fields)
        numbers = (attempt.score, attempt.max_score)
        if any(isinstance(x, bool) or not isinstance(x, int | float) for x in numbers):
            return None
        if not isinstance(attempt.max_score, int) or attempt.max_score <= 0:
            return None
        datetime.fromisoformat(attempt.started)
        datetime.fromisoformat(attempt.finished)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    return attempt


def _connect(path: Path) -> sqlite3.Connection:
    """Open the history, creating its table the first time."""
    db = sqlite3.connect(path, timeout=10)
    if db.execute("PRAGMA user_version").fetchone()[0] == 0:
        with db:
            db.execute(SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return db


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C until the block ends, then raise it: a save is either whole or not begun."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
    if caught:
        raise KeyboardInterrupt


CANNOT_WRITE = "could not save this attempt to the quiz history {path}: {error}\n{advice}"
CANNOT_SAVE = (
    "quiz attempts cannot be saved to {path}: {error}\n{advice}\n"
    "Nothing was asked yet; run `course quiz` again once it is fixed."
)
CANNOT_READ = "could not read the quiz history {path}: {error}\n{advice}"
CANNOT_READ_NEXT = "Move the file away (a new one is started), or set {env} to another folder."
LOCKED = (
    "Another program (another `course` command?) is writing to it right now: wait until it "
    "has finished, then try again. Do not move the file away: it holds your records."
)
NOT_A_FOLDER = (
    "the data folder {path} is a file, not a folder. Set {env} to a folder (it is made if "
    "missing), or move that file away."
)
CANNOT_REACH = "cannot reach the data folder {path}: {error}. Set {env} to a folder you can use."
DAMAGED_ROWS = (
    "{n} attempt(s) in {path} could not be read (edited by hand?) and are not counted; "
    "they are left in the file."
)
