"""The batch gradebook: SQLite, one transaction per learner, so that a batch killed at any
moment loses at most the learners in flight and never counts anyone twice."""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from pathlib import Path

from grader.results import Outcome
from grader.sanitize import csv_cell

SCHEMA = """
CREATE TABLE IF NOT EXISTS learners (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    error TEXT,
    seconds REAL,
    graded_at TEXT NOT NULL,
    flags TEXT,  -- what an instructor should check about the id (look-alike, invisible characters)
    file_flags TEXT  -- and about the files (a name read as an exercise's, a file not graded)
);
CREATE TABLE IF NOT EXISTS exercises (
    learner TEXT NOT NULL REFERENCES learners(id),
    exercise TEXT NOT NULL,
    state TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    PRIMARY KEY (learner, exercise)
);
CREATE TABLE IF NOT EXISTS checks (
    learner TEXT NOT NULL REFERENCES learners(id),
    exercise TEXT NOT NULL,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (learner, exercise, name)
);
"""


class Gradebook:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(learners)")}
        for column in ("flags", "file_flags"):  # a gradebook from before them
            if column not in columns:
                self.db.execute(f"ALTER TABLE learners ADD COLUMN {column} TEXT")

    def hashes(self) -> dict[str, str]:
        """The content hash each learner was last graded at."""
        return dict(self.db.execute("SELECT id, content_hash FROM learners"))

    def record(self, outcome: Outcome) -> None:
        """Replace everything known about one learner, atomically."""
        learner, report = outcome.learner, outcome.report
        with self.db:  # BEGIN ... COMMIT, or ROLLBACK on error
            self.db.execute("BEGIN IMMEDIATE")
            for table, column in (
                ("checks", "learner"),
                ("exercises", "learner"),
                ("learners", "id"),
            ):
                self.db.execute(f"DELETE FROM {table} WHERE {column} = ?", (learner,))
            self.db.execute(
                "INSERT INTO learners (id, content_hash, score, max_score, error, seconds, "
                "graded_at, file_flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (learner, outcome.hash, report.score, report.max_score, outcome.error,
                 outcome.seconds, time.strftime("%Y-%m-%dT%H:%M:%S"),
                 "; ".join(outcome.flags) or None),
            )  # fmt: skip
            self.db.executemany(
                "INSERT INTO exercises VALUES (?, ?, ?, ?, ?)",
                [(learner, e.id, e.state, e.score, e.max_score) for e in report.exercises],
            )
            self.db.executemany(
                "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(learner, c.exercise, c.check, c.title, c.state, c.score, c.max_score, c.output)
                 for c in report.cases() if c.check is not None],
            )  # fmt: skip

    def set_flags(self, flags: dict[str, list[str]]) -> None:
        """Record what to check about each id (none: an empty list)."""
        with self.db:
            self.db.executemany(
                "UPDATE learners SET flags = ? WHERE id = ?",
                [("; ".join(f) or None, learner) for learner, f in flags.items()],
            )

    def totals(self) -> list[tuple[str, float, float, str | None]]:
        return list(self.db.execute("SELECT id, score, max_score, error FROM learners ORDER BY id"))

    def files_to_check(self) -> list[tuple[str, str]]:
        """Each learner whose files need a look (a misnamed file graded, a file not graded)."""
        return list(
            self.db.execute(
                "SELECT id, file_flags FROM learners WHERE file_flags IS NOT NULL ORDER BY id"
            )
        )

    def most_failed(self, limit: int = 5) -> list[tuple[str, str, int]]:
        """The checks the class failed most: the teaching signal."""
        return list(
            self.db.execute(
                "SELECT exercise, title, COUNT(*) AS n FROM checks WHERE state = 'failed' "
                "GROUP BY exercise, title ORDER BY n DESC, exercise, title LIMIT ?",
                (limit,),
            )
        )

    def csv_text(self, exercise_ids: list[str]) -> str:
        """One row per learner, one column per exercise, the total, and what to check (about
        the id, then about the files); no cell a spreadsheet would run as a formula."""
        scores: dict[str, dict[str, float]] = {}
        for learner, exercise, score in self.db.execute(
            "SELECT learner, exercise, score FROM exercises"
        ):
            scores.setdefault(learner, {})[exercise] = score
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["learner", *exercise_ids, "total", "max_score", "error", "flags"])
        for learner, total, max_score, error, *flags in self.db.execute(
            "SELECT id, score, max_score, error, flags, file_flags FROM learners ORDER BY id"
        ):
            row = [f"{scores.get(learner, {}).get(e, 0):g}" for e in exercise_ids]
            flagged = "; ".join(f for f in flags if f)
            text = [csv_cell(learner), csv_cell(error or ""), csv_cell(flagged)]
            writer.writerow([text[0], *row, f"{total:g}", f"{max_score:g}", *text[1:]])
        return out.getvalue()

    def close(self) -> None:
        self.db.close()
