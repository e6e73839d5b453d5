"""What the course remembers of a learner between commands, per workspace, in one SQLite file
in the data folder: the last grade of each exercise (with the fingerprint of the file graded,
so that `course progress` can tell a stale grade) and how far up each hint ladder they are.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from course.history import ENV, advice, data_dir, usable_data_dir
from courseware.errors import CourseError

FILENAME = "progress.sqlite3"
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS grades (
        workspace TEXT NOT NULL, exercise TEXT NOT NULL, fingerprint TEXT,
        state TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL, graded TEXT NOT NULL,
        PRIMARY KEY (workspace, exercise))""",
    """CREATE TABLE IF NOT EXISTS hints (
        workspace TEXT NOT NULL, exercise TEXT NOT NULL, seen INTEGER NOT NULL,
        PRIMARY KEY (workspace, exercise))""",
)
GLOBAL = ""  # hints seen while grading outside any workspace


@dataclass(frozen=True)
class Grade:
    """The last grade of one exercise in one workspace."""

    exercise: str
    fingerprint: str | None  # of the file as graded; None when there was no file
    state: str  # "graded" or "not_attempted"
    score: float
    max_score: float


def backups_dir(workspace_key: str) -> Path:
    """Where `course reset` keeps learners' files: the data folder, never the workspace."""
    import hashlib

    digest = hashlib.sha256(workspace_key.encode()).hexdigest()[:16]
    return usable_data_dir() / "backups" / digest


def record_grades(workspace: str, grades: list[Grade]) -> None:
    """Remember these grades as the last of their exercises, in one transaction."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = [
        (workspace, g.exercise, g.fingerprint, g.state, g.score, g.max_score, now) for g in grades
    ]
    with _open() as db, db:
        db.executemany("INSERT OR REPLACE INTO grades VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def last_grades(workspace: str) -> dict[str, Grade]:
    with _open() as db:
        rows = db.execute(
            "SELECT exercise, fingerprint, state, score, max_score FROM grades WHERE workspace = ?",
            (workspace,),
        ).fetchall()
    return {row[0]: Grade(*row) for row in rows if _is_grade(row)}


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_grade(row: tuple) -> bool:
    """A row as record_grades writes it (a hand-edited one is ignored, not a crash)."""
    exercise, fingerprint, kind, score, max_score = row
    numbers = all(_is_number(x) for x in (score, max_score))
    return (
        isinstance(exercise, str)
        and (fingerprint is None or isinstance(fingerprint, str))
        and kind in ("graded", "not_attempted")
        and numbers
    )


def hints_seen(workspace: str, exercise: str) -> int:
    with _open() as db:
        row = db.execute(
            "SELECT seen FROM hints WHERE workspace = ? AND exercise = ?", (workspace, exercise)
        ).fetchone()
    seen = row[0] if row else 0
    return seen if isinstance(seen, int) and not isinstance(seen, bool) and seen >= 0 else 0


def next_hint(workspace: str, exercise: str, hints: tuple[str, ...]) -> tuple[int, str] | None:
    """The next hint not yet seen (1-based number, text), now marked seen; None when every
    hint of the ladder has been shown."""
    seen = hints_seen(workspace, exercise)
    if seen >= len(hints):
        return None
    with _open() as db, db:
        db.execute("INSERT OR REPLACE INTO hints VALUES (?, ?, ?)", (workspace, exercise, seen + 1))
    return seen + 1, hints[seen]


def _open() -> closing[sqlite3.Connection]:
    path = data_dir() / FILENAME
    try:
        if path.parent.exists() and not path.parent.is_dir():
            why = f"the data folder {path.parent} is a file, not a folder"
            more = f"Set {ENV} to a folder (it is made if missing), or move that file away."
            raise CourseError(CANNOT_OPEN.format(path=path, error=why, advice=more))
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=10)
        with db:
            for statement in SCHEMA:
                db.execute(statement)
    except (OSError, sqlite3.Error) as exc:
        why = getattr(exc, "strerror", None) or exc
        more = advice(exc) or CANNOT_OPEN_NEXT.format(env=ENV)
        raise CourseError(CANNOT_OPEN.format(path=path, error=why, advice=more)) from exc
    return closing(db)


CANNOT_OPEN = "could not open your progress file {path}: {error}\n{advice}"
CANNOT_OPEN_NEXT = (
    "Set {env} to a folder you can write to, or move the file away (a new one is started)."
)
