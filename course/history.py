"""Quiz history: every finished attempt, kept in one SQLite file in the user's data folder.

Each attempt is one row written in one transaction, so the file holds whole attempts only: an
interrupted or crashed run leaves it as it was. `COURSE_DATA_DIR` moves the folder (tests use it).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

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


def record(attempt: Attempt) -> Path:
    """Append `attempt` to the history in one transaction; return the history file."""
    path = history_file()
    row = asdict(attempt)
    row["questions"] = json.dumps(row["questions"])
    insert = f"INSERT INTO attempts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(_connect(path)) as db, db:
            db.execute(insert, [row[c] for c in COLUMNS])
    except (OSError, sqlite3.Error) as exc:
        raise CourseError(CANNOT_WRITE.format(path=path, error=exc, env=ENV)) from exc
    return path


def attempts(bank: str | None = None) -> list[Attempt]:
    """Past attempts, oldest first, of one bank or of all."""
    path = history_file()
    if not path.is_file():
        return []
    query = f"SELECT {', '.join(COLUMNS)} FROM attempts"
    try:
        with closing(_connect(path)) as db:
            rows = db.execute(*_filtered(query, bank)).fetchall()
    except sqlite3.Error as exc:
        raise CourseError(CANNOT_READ.format(path=path, error=exc, env=ENV)) from exc
    return [_attempt(row) for row in rows]


def _filtered(query: str, bank: str | None) -> tuple[str, tuple]:
    if bank is None:
        return f"{query} ORDER BY id", ()
    return f"{query} WHERE bank = ? ORDER BY id", (bank,)


def _attempt(row: tuple) -> Attempt:
    fields = dict(zip(COLUMNS, row, strict=True))
    fields["questions"] = tuple(Outcome(**q) for q in json.loads(fields["questions"]))
    return Attempt(**fields)


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


CANNOT_WRITE = (
    "could not save this attempt to the quiz history {path}: {error}\n"
    "Set {env} to a folder you can write to, then take the quiz again."
)
CANNOT_READ = (
    "could not read the quiz history {path}: {error}\n"
    "Move the file away (a new one is started), or set {env} to another folder."
)
