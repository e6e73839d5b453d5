"""Which exercise a learner's file is for, by its name: the one matcher behind `course grade`
(which explains a misnamed file) and batch grading (which grades a clearly misnamed file as
its exercise, and says so), and the batch's choice among several candidates."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from courseware.content import Exercise, Module
from courseware.files import learner_entries

# A copy's suffix on the stem, as browsers and file managers add them: "name (1)", "name(2)",
# "name - Copy", "name - Copy (2)", "name copy", "name copy 2", "name_copy", "name-1", "name_2".
COPY_SUFFIX = re.compile(
    r"(?:\s*\(\d{1,3}\)|\s+-\s+copy(?:\s*\(\d{1,3}\))?|[ _-]copy(?:[ _-]?\d{1,3})?|[ _-]\d{1,3})$",
    re.IGNORECASE,
)
TEXT_SUFFIX = ".txt"
# Files a workspace or a system holds beside the work (statements, .DS_Store): noted, not flagged.
QUIET_NAMES = frozenset({"README.md"})
# Folders of tools and systems, never the learner's work: their files are not listed one by one.
TOOL_FOLDERS = frozenset(
    {".git", ".venv", "venv", "__pycache__", "node_modules", "site-packages", "_site", "__MACOSX"}
)
# Files an operating system adds beside any file (Finder, Explorer, AppleDouble "._x"): said
# once, as the system's, not as a learner's file that is no exercise's.
SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "ehthumbs.db"})
CASE = "its name differs in case"
COPY = "a copy's suffix '{suffix}'"
TEXT = "a .txt extension"


@dataclass(frozen=True)
class NameMatch:
    """A file name read as an exercise's: `changes` says how it differs (none: exact)."""

    exercise: Exercise
    changes: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        return not self.changes

    def why(self) -> str:
        return ", ".join(self.changes)


def exercise_for(module: Module, name: str) -> NameMatch | None:
    """The exercise whose file `name` is, exactly or clearly (a case difference, a copy's
    suffix such as ' (1)', a .py.txt or .txt extension); None when it is no exercise's or
    could be more than one's."""
    if exact := module.by_file(name):
        return NameMatch(exact)
    changes: list[str] = []
    stem, dot, suffix = name.rpartition(".")
    if dot and f".{suffix}".lower() == TEXT_SUFFIX:
        changes.append(TEXT)
        name = stem if stem.lower().endswith(".py") else f"{stem}.py"
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix.lower() != "py":
        return None
    while True:
        if found := _by_folded_name(module, f"{stem}.{suffix}"):
            if found.file != f"{stem}.{suffix}":
                changes.append(CASE)
            return NameMatch(found, tuple(changes)) if changes else NameMatch(found)
        copy = COPY_SUFFIX.search(stem)
        if copy is None or copy.start() == 0:
            return None
        changes.append(COPY.format(suffix=copy.group()))
        stem = stem[: copy.start()]


def not_an_exercise_file(module: Module, name: str) -> str:
    """Why `course grade NAME` grades nothing, and, for a name that is clearly an exercise
    file's, the name to give it."""
    names = ", ".join(ex.file for ex in module.exercises)
    said = NOT_AN_EXERCISE_FILE.format(name=name, names=names)
    if match := exercise_for(module, name):
        said += " " + RENAME.format(file=match.exercise.file, why=match.why())
    return said


def misnamed(module: Module, folder: Path, exercise: Exercise) -> list[tuple[str, NameMatch]]:
    """The files under `folder` (walked as a learner's folder is: no link followed, bounded)
    whose names are clearly, but not exactly, `exercise`'s file's, by their paths inside it."""
    try:
        entries = [(os.fsdecode(p), e) for p, e in learner_entries(folder)]
    except OSError:  # unreadable, or too many entries: nothing to suggest
        return []
    found = []
    for path, entry in entries:
        parts = PurePosixPath(path).parts
        if not entry.is_file(follow_symlinks=False) or any(_tool(p) for p in parts[:-1]):
            continue
        match = exercise_for(module, parts[-1])
        if match and not match.exact and match.exercise == exercise:
            found.append((path, match))
    return sorted(found, key=lambda pair: pair[0])


NOT_AN_EXERCISE_FILE = "{name} is not an exercise file; exercise files are named {names}."
RENAME = "Its name reads as {file} ({why}): rename it to {file}, then grade it again."


def _by_folded_name(module: Module, name: str) -> Exercise | None:
    found = [ex for ex in module.exercises if ex.file.casefold() == name.casefold()]
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class Candidate:
    """A file of a submission that may be an exercise's, by its path inside the submission."""

    path: str
    match: NameMatch

    @property
    def rank(self) -> tuple[int, int]:
        """Lower is better: an exact name first, then the fewest changes, then the shallowest."""
        return len(self.match.changes), self.path.count("/")


@dataclass
class Choice:
    """What batch grading takes from a submission: one file per exercise, and a note for the
    learner (and the instructor) about every other file and every name read as another."""

    graded: dict[str, Candidate] = field(default_factory=dict)  # exercise id -> file
    notes: list[str] = field(default_factory=list)  # "path: what happened to it"
    flags: list[str] = field(default_factory=list)  # what the instructor should check


MAX_LISTED = 20  # other files named one by one; past that, a count
GRADED_AS = "{path}: graded as {file} ({exercise}): {why}"
PASSED_OVER = "{path}: not graded: {why}"
EXACT_WINS = "{chosen} has the exact name {file}, and an exact name always wins"
SHALLOWER_WINS = "{chosen}, as close a match for {file}, lies nearer the top of the submission"
CLOSER = "{chosen} is a closer match for {file}"
TIE = "{others} could each be {file}, and none is a better match: hand in one file named {file}"
STRICT = "its name is not exactly {file} (the instructor grades exact names only)"
NOT_EXERCISE = "{path}: not graded: not an exercise file (exercise files are named {names})"
TOOL_FOLDER = "{path}/: not graded: a folder of tools or of the system"
SYSTEM_FILE = "{paths}: not graded: files your operating system adds"
MORE_FILES = "… and {n} more file(s), not graded: not exercise files"


def choose(
    module: Module, paths: Iterable[str], strict: bool = False, exercises: Iterable[str] = ()
) -> Choice:
    """Pick the file to grade for each exercise counted (`exercises`, default all) among a
    submission's `paths` (POSIX, relative to the submission): the best-ranked candidate, where
    one is better than all others; with `strict`, exact names only. Every path that is no
    exercise's, and every candidate passed over, gets a note saying why."""
    wanted = {module.exercise(e).id for e in exercises} or {ex.id for ex in module.exercises}
    choice, by_exercise, others, tools = Choice(), {}, [], set()
    for path in sorted(paths):
        parts = PurePosixPath(path).parts
        if tool := next((p for p in parts[:-1] if _tool(p)), None):
            tools.add("/".join(parts[: parts.index(tool) + 1]))
        elif match := exercise_for(module, parts[-1]):
            by_exercise.setdefault(match.exercise.id, []).append(Candidate(path, match))
        else:
            others.append(path)
    for ex in (ex for ex in module.exercises if ex.id in wanted):
        _choose_one(ex, by_exercise.get(ex.id, []), strict, choice)
    _note_others(module, others, tools, choice)
    return choice


def _note_others(module: Module, others: list[str], tools: set[str], choice: Choice) -> None:
    """A note on each file that is no exercise's (the first MAX_LISTED, then a count) and on
    each folder of tools; one flag naming them, but for statements and hidden files."""
    names = ", ".join(ex.file for ex in module.exercises)
    system = [p for p in others if _system(p)]
    others = [p for p in others if not _system(p)]
    choice.notes += [NOT_EXERCISE.format(path=p, names=names) for p in others[:MAX_LISTED]]
    if len(others) > MAX_LISTED:
        choice.notes.append(MORE_FILES.format(n=len(others) - MAX_LISTED))
    choice.notes += [TOOL_FOLDER.format(path=t) for t in sorted(tools)]
    if system:
        shown = ", ".join(system[:MAX_LISTED]) + ("…" if len(system) > MAX_LISTED else "")
        choice.notes.append(SYSTEM_FILE.format(paths=shown))
    if flagged := [p for p in others if not _quiet(p)]:
        listed = ", ".join(flagged[:MAX_LISTED]) + ("…" if len(flagged) > MAX_LISTED else "")
        choice.flags.append(f"{len(flagged)} file(s) not an exercise's: {listed}")


def _tool(folder: str) -> bool:
    return folder in TOOL_FOLDERS or folder.startswith(".")


def _system(path: str) -> bool:
    name = PurePosixPath(path).name
    return name in SYSTEM_FILES or name.startswith("._")


def _quiet(path: str) -> bool:
    name = PurePosixPath(path).name
    return name.startswith(".") or name in QUIET_NAMES


def _choose_one(ex: Exercise, candidates: list[Candidate], strict: bool, choice: Choice) -> None:
    """Grade the best candidate for `ex` where one is better than all others; note and flag
    every other candidate, saying why it was passed over."""
    if strict:
        for c in (c for c in candidates if not c.match.exact):
            _pass_over(c, STRICT.format(file=ex.file), choice)
        candidates = [c for c in candidates if c.match.exact]
    if not candidates:
        return
    best = min(c.rank for c in candidates)
    top = [c for c in candidates if c.rank == best]
    if len(top) > 1:
        tied = ", ".join(c.path for c in top)
        for c in candidates:
            _pass_over(c, TIE.format(others=tied, file=ex.file), choice)
        return
    chosen = choice.graded[ex.id] = top[0]
    if not chosen.match.exact:
        why = chosen.match.why()
        note = GRADED_AS.format(path=chosen.path, file=ex.file, exercise=ex.id, why=why)
        choice.notes.append(note)
        choice.flags.append(note)
    for c in candidates:
        if c is not chosen:
            _pass_over(c, _beaten(chosen, c).format(chosen=chosen.path, file=ex.file), choice)


def _beaten(chosen: Candidate, other: Candidate) -> str:
    if chosen.match.exact and not other.match.exact:
        return EXACT_WINS
    return SHALLOWER_WINS if chosen.rank[0] == other.rank[0] else CLOSER


def _pass_over(candidate: Candidate, why: str, choice: Choice) -> None:
    note = PASSED_OVER.format(path=candidate.path, why=why)
    choice.notes.append(note)
    choice.flags.append(note)
