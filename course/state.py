"""What the course remembers of a learner between commands, per workspace, in one SQLite file
in the data folder: the last grade of each exercise (with the fingerprint of the file graded,
so that `course progress` can tell a stale grade, and its first failing check, so that
`course grade --hints` needs no regrade of an unchanged file) and which hints they have seen.

The file is the learner's to edit or damage: it is opened only when it is a regular file of a
sane size, and every row is checked before it is believed (a row that is not one this module
writes is ignored, never shown).
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import stat
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from course.history import ENV, advice, data_dir, usable_data_dir
from courseware.content import MAX_POINTS
from courseware.errors import CourseError

FILENAME = "progress.sqlite3"
MAX_BYTES = 32 << 20  # a few hundred bytes a grade: far more than any learner's records
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS grades (
        workspace TEXT NOT NULL, exercise TEXT NOT NULL, fingerprint TEXT,
        state TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL, graded TEXT NOT NULL,
        failing TEXT, PRIMARY KEY (workspace, exercise))""",
    """CREATE TABLE IF NOT EXISTS hints_shown (
        workspace TEXT NOT NULL, exercise TEXT NOT NULL, hint INTEGER NOT NULL,
        PRIMARY KEY (workspace, exercise, hint))""",
)
LEGACY_HINTS = "hints"  # before hints followed checks: how many of the ladder were seen
GLOBAL = ""  # hints seen while grading outside any workspace
STATES = ("graded", "not_attempted")
EXERCISE_ID = re.compile(r"\d\d_[a-z0-9_]{1,60}")
FINGERPRINT = re.compile(r"[0-9a-f]{64}")
CHECK_NAME = re.compile(r"test_[a-z0-9_]{1,80}")
MAX_HINTS = 100  # of one exercise's ladder


@dataclass(frozen=True)
class Grade:
    """The last grade of one exercise in one workspace."""

    exercise: str
    fingerprint: str | None  # of the file as graded; None when there was no file
    state: str  # "graded" or "not_attempted"
    score: float
    max_score: float
    failing: str | None = None  # the first failing check; None when none failed (or unknown)

    @property
    def complete(self) -> bool:
        return self.state == "graded" and self.score >= self.max_score - 1e-9


def backups_dir(workspace_key: str) -> Path:
    """Where `course reset` keeps learners' files: the data folder, never the workspace."""
    import hashlib

    digest = hashlib.sha256(workspace_key.encode()).hexdigest()[:16]
    return usable_data_dir() / "backups" / digest


def record_grades(workspace: str, grades: list[Grade]) -> None:
    """Remember these grades as the last of their exercises, in one transaction."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = [
        (workspace, g.exercise, g.fingerprint, g.state, g.score, g.max_score, now, g.failing)
        for g in grades
    ]
    with _open() as db, db:
        db.executemany(
            "INSERT OR REPLACE INTO grades (workspace, exercise, fingerprint, state, score, "
            "max_score, graded, failing) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def last_grades(workspace: str, points: Mapping[str, float]) -> dict[str, Grade]:
    """The last grade of each exercise of `workspace` that the file holds, as written by
    `record_grades`, for the exercises of `points` (id -> points) out of their own points only:
    a row that claims another maximum is not this module's grade."""
    with _open() as db:
        rows = db.execute(
            "SELECT exercise, fingerprint, state, score, max_score, failing FROM grades "
            "WHERE workspace = ?",
            (workspace,),
        ).fetchall()
    grades = {row[0]: Grade(*row) for row in rows if _is_grade(row)}
    return {k: g for k, g in grades.items() if points.get(k) == g.max_score}


def _is_grade(row: tuple) -> bool:
    """A row as record_grades writes it: a known state, a score within [0, max_score] and
    names of the shapes this module writes (a hand-edited row is ignored, not a crash)."""
    exercise, fingerprint, kind, score, max_score, failing = row
    return (
        _matches(EXERCISE_ID, exercise)
        and (fingerprint is None or _matches(FINGERPRINT, fingerprint))
        and kind in STATES
        and _is_number(score)
        and _is_number(max_score)
        and 0 < max_score <= MAX_POINTS
        and 0 <= score <= max_score
        and (failing is None or _matches(CHECK_NAME, failing))
    )


def _matches(pattern: re.Pattern, value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def hints_seen(workspace: str, exercise: str) -> set[int]:
    """The numbers (1-based, in the ladder) of the hints of `exercise` already shown."""
    with _open() as db:
        rows = db.execute(
            "SELECT hint FROM hints_shown WHERE workspace = ? AND exercise = ?",
            (workspace, exercise),
        ).fetchall()
        legacy = db.execute(
            f"SELECT seen FROM {LEGACY_HINTS} WHERE workspace = ? AND exercise = ?",
            (workspace, exercise),
        ).fetchone()
    seen = {n for (n,) in rows if _is_hint_number(n)}
    if legacy and _is_hint_number(legacy[0]):  # the first N of the ladder, seen in order
        seen.update(range(1, legacy[0] + 1))
    return seen


def _is_hint_number(n: object) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_HINTS


def next_hint(workspace: str, exercise: str, order: tuple[int, ...]) -> int | None:
    """The first hint of `order` (0-based indexes into the ladder) not yet seen, now marked
    seen; None when every hint of the ladder has been shown."""
    seen = hints_seen(workspace, exercise)
    shown = next((i for i in order if i + 1 not in seen), None)
    if shown is not None:
        with _open() as db, db:
            db.execute(
                "INSERT OR REPLACE INTO hints_shown VALUES (?, ?, ?)",
                (workspace, exercise, shown + 1),
            )
    return shown


@contextmanager
def _open() -> Iterator[sqlite3.Connection]:
    """The progress file, its tables made; any failure on the way, or while it is used, is a
    CourseError that names the file and what to do."""
    path = data_dir() / FILENAME
    try:
        _check_file(path)
        with closing(sqlite3.connect(path, timeout=10)) as db:
            with db:
                for statement in _schema(db):
                    db.execute(statement)
            yield db
    except (OSError, sqlite3.Error) as exc:
        why = getattr(exc, "strerror", None) or exc
        more = advice(exc) or CANNOT_OPEN_NEXT.format(env=ENV)
        raise CourseError(CANNOT_OPEN.format(path=path, error=why, advice=more)) from exc


def _check_file(path: Path) -> None:
    """Refuse, before SQLite reads a byte, a data folder that is a file, and a progress file
    that is not a regular file (a FIFO blocks) or far too large (a sparse giant)."""
    if path.parent.exists() and not path.parent.is_dir():
        why = f"the data folder {path.parent} is a file, not a folder"
        more = f"Set {ENV} to a folder (it is made if missing), or move that file away."
        raise CourseError(CANNOT_OPEN.format(path=path, error=why, advice=more))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
        why = "not a regular file" if not stat.S_ISREG(info.st_mode) else TOO_LARGE
        more = CANNOT_OPEN_NEXT.format(env=ENV)
        raise CourseError(CANNOT_OPEN.format(path=path, error=why, advice=more))


def _schema(db: sqlite3.Connection) -> list[str]:
    """The statements that bring the file's tables up to date."""
    statements = list(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(grades)")}
    if columns and "failing" not in columns:  # written before grades kept their failing check
        statements.append("ALTER TABLE grades ADD COLUMN failing TEXT")
    statements.append(
        f"CREATE TABLE IF NOT EXISTS {LEGACY_HINTS} (workspace TEXT NOT NULL, "
        "exercise TEXT NOT NULL, seen INTEGER NOT NULL, PRIMARY KEY (workspace, exercise))"
    )
    return statements


CANNOT_OPEN = "could not open your progress file {path}: {error}\n{advice}"
CANNOT_OPEN_NEXT = (
    "Set {env} to a folder you can write to, or move the file away (a new one is started)."
)
TOO_LARGE = f"larger than {MAX_BYTES >> 20} MiB, far more than progress needs: it is not read"
