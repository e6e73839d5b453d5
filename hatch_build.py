"""Build hook: a wheel carries the course content under courseware/data/, laid out as in the
repository, so that `pip install` alone gives a learner the whole module. An editable install
gets none of it (it reads the content where it is), so no stale copy of the references lands
in site-packages.

The wheel is the module as released: each exercise's starter is the approved one of
starters.lock, never the file in exercises/ (which a learner or an instructor edits in place
in a clone), and an exercise folder carries its statement and that starter only."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import yaml
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

CONTENT = ("course.yaml", "starters.lock", "exercises", "solutions", "quizzes", "lesson", "site",
           "grader/checks")  # fmt: skip
STATEMENT = "README.md"
TARGET = "courseware/data"


class ContentHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if version != "standard":
            return
        root = Path(self.root)
        self._starters = Path(tempfile.mkdtemp(prefix="course-starters-"))
        files = {rel: root / rel for top in CONTENT for rel in _content(root, top)}
        files.update(_approved_starters(root, self._starters))
        build_data["force_include"].update(
            {str(source): f"{TARGET}/{rel}" for rel, source in sorted(files.items())}
        )

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        if version == "standard":
            shutil.rmtree(self._starters, ignore_errors=True)


def _content(root: Path, top: str):
    """Every file of `top` as a path relative to `root`: no hidden file, no cache, and in
    exercises/ only the statements (the starters come from the lock)."""
    path = root / top
    if path.is_file():
        yield top
        return
    for file in sorted(path.rglob("*")):
        rel = file.relative_to(root)
        if not file.is_file() or any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
            continue
        if top == "exercises" and file.name != STATEMENT:
            continue
        yield rel.as_posix()


def _approved_starters(root: Path, folder: Path) -> dict[str, Path]:
    """Each starter of starters.lock written to `folder`, by its place in the wheel's data."""
    lock = yaml.safe_load((root / "starters.lock").read_text("utf-8")) or {}
    files = {}
    for exercise_id, entry in (lock.get("starters") or {}).items():
        rel = f"exercises/{exercise_id}/{entry['file']}"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(entry["text"], "utf-8")
        files[rel] = folder / rel
    return files
