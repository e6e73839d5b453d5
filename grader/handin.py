"""One learner's submission as batch grading takes it. `read_handin` reads a folder or a .zip
on the trusted side, following nothing, into plain data (the exercise files chosen by name, as
bytes, and a note on every other entry) that can travel to a worker process or another machine;
`grade_handin` grades those bytes from a private scratch folder and returns a report in which
every path is the learner's own, inside their submission."""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from courseware.content import Exercise, Module
from courseware.errors import CourseError
from courseware.exercise_cells import MAX_NOTEBOOK, handed_in
from courseware.exercise_cells import SUFFIX as NOTEBOOK
from courseware.files import MAX_LEARNER_FILE, learner_entries, read_learner_file
from grader.archive import ArchiveError, members, open_zip, read_member
from grader.names import choose
from grader.results import ERROR, NOT_ATTEMPTED, ExerciseResult, GradeReport
from grader.sanitize import clean

if TYPE_CHECKING:
    from grader.grade import GradeOptions
    from grader.zygote import Zygote

SCRATCH = "submission"  # the scratch folder's name: never an exercise id
NOT_FOLLOWED = "{path}: not read: {what}, never followed (hand in plain files)"
UNREADABLE_FILE = "{path} could not be read ({why}): hand in a plain file of at most {kib} KiB."
MISSING = "Not attempted: your submission holds no file named {file} that could be graded."
STARTER = (
    "Not attempted: {path} is still the starter. Fill in its TODOs (the exercise's statement "
    "says what each one does), then hand it in again."
)
KINDS = {stat.S_ISLNK: "a symbolic link", stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket"}


@dataclass(frozen=True)
class HandinFile:
    """The file graded for one exercise: its path inside the submission and its bytes (None
    where it could not be read, and `error` says why)."""

    exercise: str
    path: str
    data: bytes | None
    error: str = ""


@dataclass(frozen=True)
class Handin:
    """One learner's submission as plain data: nothing in it is a path to follow."""

    name: str  # the class folder's entry: "ada", or "ada.zip"
    files: tuple[HandinFile, ...]
    notes: tuple[str, ...] = ()  # for the learner: every entry not graded, and why
    flags: tuple[str, ...] = ()  # for the instructor: what to check (the CSV's flags)


def read_handin(module: Module, entry: Path, options: GradeOptions) -> Handin:
    """Read the submission at `entry` (a folder, or a .zip when its name says so) into a
    Handin. Raises ArchiveError or OSError when it cannot be read safely."""
    if entry.suffix == ".zip":
        return _read_zip(module, entry, options)
    if entry.suffix == NOTEBOOK:  # a learner's one notebook, alone
        alone = {clean(entry.name): os.fsencode(entry)}
        return _handin(module, entry.name, alone, [], options, read_learner_file)
    regular, odd = {}, []
    for relative, item in learner_entries(entry):
        shown = clean(os.fsdecode(relative))
        if item.is_file(follow_symlinks=False):
            regular[shown] = os.path.join(os.fsencode(entry), relative)
        elif not item.is_dir(follow_symlinks=False):
            odd.append((shown, _kind(item.stat(follow_symlinks=False).st_mode)))
    return _handin(module, entry.name, regular, odd, options, read_learner_file)


def _read_zip(module: Module, entry: Path, options: GradeOptions) -> Handin:
    with open_zip(entry) as zf:
        found = members(zf)
        odd = [(clean(name), "a symbolic link") for name in found.links]
        files = {clean(name): original for name, original in found.files.items()}
        return _handin(
            module, entry.name, files, odd, options,
            lambda member, limit: read_member(zf, member, limit),
        )  # fmt: skip


def _handin(module, name, files, odd, options, read) -> Handin:
    """The Handin of a submission whose regular files are `files` (shown path -> what `read`
    takes) and whose other entries are `odd` (shown path, what it is)."""
    notebooks = {path: files.pop(path) for path in [p for p in files if p.endswith(NOTEBOOK)]}
    choice = choose(module, files, options.strict_names, options.exercises)
    chosen = [_read_one(ex, c.path, files[c.path], read) for ex, c in choice.graded.items()]
    cells, notes = _notebooks(module, notebooks, read, {f.exercise for f in chosen})
    refused = [NOT_FOLLOWED.format(path=path, what=what) for path, what in odd]
    notes = choice.notes + notes + refused
    return Handin(name, tuple(chosen + cells), tuple(notes), tuple(choice.flags + refused))


def _notebooks(module, notebooks, read, taken: set[str]) -> tuple[list[HandinFile], list[str]]:
    """The exercise cells of the submission's notebooks, as the files they stand for
    (courseware.exercise_cells), for the exercises no other file gives; notes on the rest."""
    data, notes = {}, []
    for path, source in notebooks.items():
        try:
            data[path] = read(source, MAX_NOTEBOOK)
        except (OSError, ArchiveError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            notes.append(UNREADABLE_FILE.format(path=path, why=why, kib=MAX_NOTEBOOK >> 10))
    graded, more = handed_in(module, data, taken)  # notes that quote the cells: cleaned
    return [HandinFile(*found) for found in graded], notes + [clean(note) for note in more]


def _read_one(exercise: str, path: str, source, read) -> HandinFile:
    try:
        return HandinFile(exercise, path, read(source, MAX_LEARNER_FILE))
    except (OSError, ArchiveError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return HandinFile(exercise, path, None, why)


def _kind(mode: int) -> str:
    return next((what for test, what in KINDS.items() if test(mode)), "a device")


def grade_handin(
    module: Module, handin: Handin, options: GradeOptions, zygote: Zygote | None = None
) -> GradeReport:
    """Grade a learner's Handin: its files go into a private scratch folder under their
    exercises' names, are graded there, and come back under their paths in the submission."""
    from grader.grade import grade

    with tempfile.TemporaryDirectory(prefix="course-batch-") as scratch:
        folder = Path(scratch) / SCRATCH
        folder.mkdir()
        for f in handin.files:
            if f.data is not None:
                (folder / module.exercise(f.exercise).file).write_bytes(f.data)
        forms = _scratch_forms(module, folder, handin)
        try:
            report = grade(module, folder, options, zygote=zygote)
        except CourseError as exc:
            exc.message = _as_handed_in_text(exc.message, forms)
            raise
    return _as_handed_in(module, report, handin, forms)


Forms = list[tuple[str, str]]  # a scratch path as a message may hold it, and the learner's


def _scratch_forms(module: Module, folder: Path, handin: Handin) -> Forms:
    """Every form of the scratch paths a message may hold (absolute, relative to here), the
    longer first, each with the learner's own path."""
    pairs = []
    for f in handin.files:
        path = folder / module.exercise(f.exercise).file
        pairs += [(str(path), f.path), (_relative(path), f.path)]
    pairs += [(str(folder), handin.name), (_relative(folder), handin.name)]
    pairs += [(str(folder.parent), handin.name), (_relative(folder.parent), handin.name)]
    return sorted(set(pairs), key=lambda pair: len(pair[0]), reverse=True)


def _relative(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive, on Windows
        return str(path)


def _as_handed_in_text(text: str, forms: Forms) -> str:
    for scratch, learner in forms:
        text = text.replace(scratch, learner)
    return text


def _as_handed_in(module: Module, report: GradeReport, handin: Handin, forms: Forms) -> GradeReport:
    """The report with the learner's paths, and the batch's words for a missing, unread or
    untouched file."""
    report.target = handin.name
    files = {f.exercise: f for f in handin.files}
    for result in report.exercises:
        _relabel(result, module.exercise(result.id), files.get(result.id))
        result.message = _as_handed_in_text(result.message, forms)
        result.output = _as_handed_in_text(result.output, forms)
        for check in result.checks:
            check.message = _as_handed_in_text(check.message, forms)
            check.detail = _as_handed_in_text(check.detail, forms)
    return report


def _relabel(result: ExerciseResult, ex: Exercise, handed: HandinFile | None) -> None:
    result.file = handed.path if handed else None
    if handed and handed.error:
        kib = MAX_LEARNER_FILE >> 10
        result.state = ERROR
        result.message = UNREADABLE_FILE.format(path=handed.path, why=handed.error, kib=kib)
    elif result.state == NOT_ATTEMPTED:
        result.message = (
            STARTER.format(path=handed.path) if handed else MISSING.format(file=ex.file)
        )
