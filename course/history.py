"""Quiz history: every finished attempt, kept in one SQLite file in the user's data folder,
each under the workspace it was taken in (as grades and hints are kept).

Each attempt is one row written in one transaction, so the file holds whole attempts only: an
interrupted or crashed run leaves it as it was. `COURSE_DATA_DIR` moves the folder (tests use it).
The file is the learner's to edit or damage: it is read only when it is a regular file of a
sane size, within a time limit, and a row counts only when every value in it is one this module
writes (a score within [0, max], known kinds, ids of the shape questions have), with its text
made safe to print.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import sqlite3
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import click
import platformdirs

from courseware import distribution
from courseware.errors import CourseError
from grader.sanitize import clean

ENV = "COURSE_DATA_DIR"
FILENAME = "quiz-history.sqlite3"
SCHEMA_VERSION = 2  # 2: each attempt belongs to a workspace
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
    questions TEXT NOT NULL,
    workspace TEXT NOT NULL DEFAULT ''
)
"""
UPGRADE = {1: "ALTER TABLE attempts ADD COLUMN workspace TEXT NOT NULL DEFAULT ''"}
COLUMNS = ("bank", "title", "seed", "started", "finished", "score", "max_score", "questions")
NOWHERE = ""  # the workspace of attempts taken outside any (and of those kept before version 2)
MAX_BYTES = 64 << 20  # about 10,000 attempts of a long quiz: no real history is larger
MAX_ATTEMPTS = 10_000  # the newest ones are read; older ones are left in the file
MAX_QUESTIONS = 1_000  # in one attempt
MAX_TEXT = 2_000  # characters of a title or an answer as kept
READ_SECONDS = 10.0  # a query that runs longer was made by a crafted file: it is stopped
ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")  # a bank, question or objective id
KINDS = ("single", "multiple", "numeric", "text")


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
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(distribution.name(), False))


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
        check_data_file(path)
        with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")  # the lock a save takes: fails if it would
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            db.execute("ROLLBACK")
    except (OSError, sqlite3.Error, DataFileError) as exc:
        why = getattr(exc, "strerror", None) or exc
        more = advice(exc) or f"Set {ENV} to a folder you can write to, or move the file away."
        raise CourseError(CANNOT_SAVE.format(path=path, error=why, advice=more)) from None
    return path


def record(attempt: Attempt, workspace: str = NOWHERE) -> Path:
    """Append `attempt`, taken in `workspace` (its key), to the history in one transaction;
    return the history file."""
    path = _usable_history_file()
    row = asdict(attempt)
    row["questions"] = json.dumps(row["questions"])
    columns = (*COLUMNS, "workspace")
    insert = f"INSERT INTO attempts ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        check_data_file(path)
        with closing(_connect(path)) as db, db:
            db.execute(insert, [*(row[c] for c in COLUMNS), workspace])
    except (OSError, sqlite3.Error, DataFileError) as exc:
        more = advice(exc) or f"Set {ENV} to a folder you can write to."
        raise CourseError(CANNOT_WRITE.format(path=path, error=exc, advice=more)) from exc
    return path


def attempts(bank: str | None = None, workspace: str | None = NOWHERE) -> list[Attempt]:
    """Past attempts taken in `workspace` (None: in any), oldest first, of one bank or of all;
    at most the newest MAX_ATTEMPTS."""
    path = _usable_history_file()
    try:
        if not path.exists():
            return []
        check_data_file(path)
        with closing(_connect(path)) as db, _time_limit(db):
            rows = db.execute(*_query(bank, workspace)).fetchall()
    except (OSError, sqlite3.Error, DataFileError) as exc:
        why = getattr(exc, "strerror", None) or exc
        more = advice(exc) or CANNOT_READ_NEXT.format(env=ENV)
        raise CourseError(CANNOT_READ.format(path=path, error=why, advice=more)) from exc
    found = [_attempt(row) for row in reversed(rows)]
    kept = [a for a in found if a is not None]
    if len(kept) < len(found):  # hand-edited or damaged rows: left in the file, not counted
        damaged = len(found) - len(kept)
        click.echo(f"Warning: {DAMAGED_ROWS.format(n=damaged, path=path)}", err=True)
    return kept


def _query(bank: str | None, workspace: str | None) -> tuple[str, tuple]:
    """The newest attempts that match, each column cut to what a real row can hold (a giant
    value is read as a damaged row, not loaded)."""
    text = f"CASE WHEN length(questions) <= {MAX_QUESTIONS * 4 * MAX_TEXT} THEN questions END"
    cut = [text if c == "questions" else _short(c) for c in COLUMNS]
    where = [("bank = ?", bank), ("workspace = ?", workspace)]
    conditions = [c for c, value in where if value is not None]
    values = tuple(value for _, value in where if value is not None)
    clause = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    query = f"SELECT {', '.join(cut)} FROM attempts{clause} ORDER BY id DESC LIMIT {MAX_ATTEMPTS}"
    return query, values


def _short(column: str) -> str:
    return f"CASE WHEN length({column}) <= {MAX_TEXT} THEN {column} END"


@contextmanager
def _time_limit(db: sqlite3.Connection) -> Iterator[None]:
    """Stop any query on `db` that runs longer than READ_SECONDS (a crafted view can make a
    SELECT run for ever)."""
    deadline = time.monotonic() + READ_SECONDS
    db.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
    try:
        yield
    finally:
        db.set_progress_handler(None, 0)


def _attempt(row: tuple) -> Attempt | None:
    """The attempt of one row, its text made safe to print, or None when any of its values is
    not one this module writes."""
    fields = dict(zip(COLUMNS, row, strict=True))
    try:
        outcomes = json.loads(fields["questions"])
    except (TypeError, ValueError, RecursionError):
        return None
    if not _is_attempt(fields) or not isinstance(outcomes, list):
        return None
    questions = tuple(o for o in map(_outcome, outcomes) if o is not None)
    if len(questions) != len(outcomes) or len(questions) != fields["max_score"]:
        return None
    if abs(sum(o.credit for o in questions) - fields["score"]) > 0.01 + 1e-9 * len(questions):
        return None
    fields.update(title=clean(fields["title"]), questions=questions)
    return Attempt(**fields)


def _is_attempt(f: dict) -> bool:
    """The columns of a row as `record` writes them."""
    return (
        _is_id(f["bank"])
        and _is_text(f["title"])
        and (f["seed"] is None or _is_int(f["seed"]))
        and _is_time(f["started"])
        and _is_time(f["finished"])
        and _is_int(f["max_score"])
        and 0 < f["max_score"] <= MAX_QUESTIONS
        and _is_number(f["score"])
        and 0 <= f["score"] <= f["max_score"]
    )


def _outcome(item: object) -> Outcome | None:
    """One question's outcome as `record` writes it, or None."""
    if not isinstance(item, dict) or set(item) != set(Outcome.__dataclass_fields__):
        return None
    ok = (
        _is_id(item["id"])
        and _is_id(item["objective"])
        and item["type"] in KINDS
        and _is_text(item["given"])
        and _is_text(item["expected"])
        and _is_number(item["credit"])
        and 0 <= item["credit"] <= 1
        and isinstance(item["correct"], bool)
    )
    if not ok:
        return None
    return Outcome(**{**item, "given": clean(item["given"]), "expected": clean(item["expected"])})


def _is_id(value: object) -> bool:
    return isinstance(value, str) and ID.fullmatch(value) is not None


def _is_text(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_time(value: object) -> bool:
    """An ISO 8601 time that can be shown in the local time zone."""
    try:
        return isinstance(value, str) and len(value) <= 40 and bool(_local(value))
    except (ValueError, OverflowError):  # year 9999 at UTC-14 is past the last date
        return False


def _local(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone()


class DataFileError(Exception):
    """A file of the data folder that must not be opened, and why."""


def check_data_file(path: Path, limit: int = MAX_BYTES) -> None:
    """Refuse, before SQLite reads a byte, a file that is not a regular file (a FIFO blocks)
    or is far larger than any real one (a sparse giant)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise DataFileError("not a regular file")
    if info.st_size > limit:
        raise DataFileError(f"larger than {limit >> 20} MiB, far more than any real one")


def _connect(path: Path) -> sqlite3.Connection:
    """Open the history, creating its table the first time and bringing an older one up to
    date; a file from a newer version of the course is refused."""
    db = sqlite3.connect(path, timeout=10)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(NEWER.format(version=version))
        if version < SCHEMA_VERSION:
            with db:
                if version == 0:
                    db.execute(SCHEMA)
                for step in range(version or SCHEMA_VERSION, SCHEMA_VERSION):
                    db.execute(UPGRADE[step])
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.close()
        raise
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
NEWER = (
    "written by a newer version of the course (format {version}); upgrade the course "
    "(pip install -U), or set COURSE_DATA_DIR to another folder"
)
DAMAGED_ROWS = (
    "{n} attempt(s) in {path} could not be read (edited by hand?) and are not counted; "
    "they are left in the file."
)
