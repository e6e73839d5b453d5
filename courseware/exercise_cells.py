"""A notebook's exercise cells, read the way the grader reads a learner's file.

A code cell belongs to an exercise when its first line is the cell magic `%%exercise NN_slug`,
or when it is tagged `exercise` (cell metadata `tags`) and its first line is
`# exercise: NN_slug` (a notebook whose magic was removed); blank lines before it are
skipped, as IPython skips them. The cells of one exercise are joined in order into the source
that is graded, with the first line and every `!` (shell) and `%` (magic) line blanked where
IPython reads one (at the start of a statement, not inside brackets or a string): they still
run in the notebook, but they are not Python, and blanking them keeps every line number of a
single cell as the learner sees it.

Only the standard library reads the notebook (json): it is a learner's file, so it is read
with the same safe reader, within limits, and nothing it stores is trusted: outputs are never
read. `Staging` writes each exercise's source as the exercise's file into a private folder,
where `grader.grade` discovers and grades it as it would the .py file.
"""

from __future__ import annotations

import errno
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from courseware.content import Exercise, Module
from courseware.errors import CourseError
from courseware.files import read_learner_file

SUFFIX = ".ipynb"
MAGIC = "%%exercise"
TAG = "exercise"
TAGGED_LINE = re.compile(r"#\s*exercise:\s*(\S*)\s*$")
MAX_NOTEBOOK = 32 << 20  # bytes of one .ipynb, pictures in its outputs included
MAX_CELLS = 5_000
MAX_NOTES = 3  # notes about left-out lines, per exercise


class NotebookError(CourseError):
    """A notebook the grader cannot read: the message names the file and what to do."""


@dataclass(frozen=True)
class ExerciseSource:
    """One exercise's cells of a notebook, as the source that is graded."""

    name: str  # the exercise as the cell names it (an id, a slug or a file name)
    source: str
    cells: tuple[int, ...]  # their positions in the notebook, from 1
    notes: tuple[str, ...] = ()


def exercise_name(first_line: str, tags: list[str] | tuple[str, ...] = ()) -> str | None:
    """The exercise a cell names in its first line ("" when it names none), or None when it
    is not an exercise cell."""
    line = first_line.strip()
    if line == MAGIC or line.startswith(MAGIC + " "):
        return line[len(MAGIC) :].strip()
    match = TAGGED_LINE.match(line)
    if TAG in tags and match:
        return match.group(1)
    return None


def graded_source(cells: list[str]) -> tuple[str, tuple[str, ...]]:
    """The source graded for these cells (each whole, its first line included): joined in
    order, with first lines and `!`/`%` lines blank; and a note on each line left out."""
    lines, left_out = [], []
    for cell in cells:
        cell_lines = cell.split("\n")
        first = _first_line_at(cell_lines)
        escapes = _escape_lines(cell_lines[first + 1 :], first + 1)
        for n, line in enumerate(cell_lines):
            if n <= first or n in escapes:
                if n in escapes:
                    left_out.append((len(lines) + 1, line.strip()))
                line = ""
            lines.append(line)
    notes = [LEFT_OUT.format(line=at, text=_short(text)) for at, text in left_out[:MAX_NOTES]]
    if len(left_out) > MAX_NOTES:
        notes.append(MORE_LEFT_OUT.format(n=len(left_out) - MAX_NOTES))
    if len(cells) > 1:
        notes.append(JOINED.format(n=len(cells)))
    return "\n".join(lines) + "\n", tuple(notes)


def first_line(text: str) -> str:
    """The line of a cell IPython reads first: the first that is not blank."""
    lines = text.split("\n")
    return lines[_first_line_at(lines)]


def _first_line_at(lines: list[str]) -> int:
    return next((n for n, line in enumerate(lines) if line.strip()), 0)


def _escape_lines(lines: list[str], offset: int) -> set[int]:
    """The positions (from `offset`) of the lines IPython runs as shell or magic commands:
    those that begin with `!` or `%` where a statement begins, not inside brackets, a string
    or a line continued by a backslash (a line `!= b)` inside brackets is Python)."""
    scan, escapes = _Scan(), set()
    for n, line in enumerate(lines, offset):
        if scan.at_statement() and line.lstrip().startswith(("!", "%")):
            escapes.add(n)
        else:
            scan.line(line)
    return escapes


@dataclass
class _Scan:
    """Where a cell's Python stands after each line: open brackets, an open string."""

    depth: int = 0
    quote: str = ""  # the quote that ends the open string: ' " ''' or """
    continued: bool = False  # the line ended with a backslash

    def at_statement(self) -> bool:
        return not (self.depth or self.quote or self.continued)

    def line(self, line: str) -> None:
        i, self.continued = 0, False
        while i < len(line):
            i = self._string(line, i) if self.quote else self._code(line, i)
        if len(self.quote) == 1 and not self.continued:  # a one-line string left open
            self.quote = ""

    def _string(self, line: str, i: int) -> int:
        if line[i] == "\\":
            self.continued = i == len(line) - 1
            return i + 2
        if line.startswith(self.quote, i):
            i, self.quote = i + len(self.quote), ""
            return i
        return i + 1

    def _code(self, line: str, i: int) -> int:
        c = line[i]
        if c == "#":
            return len(line)
        if c in "'\"":
            self.quote = line[i : i + 3] if line[i : i + 3] in ("'''", '"""') else c
            return i + len(self.quote)
        self.depth = max(0, self.depth + (c in "([{") - (c in ")]}"))
        self.continued = c == "\\" and i == len(line) - 1
        return i + 1


def read_notebook(path: Path) -> bytes:
    """The bytes of the notebook at `path`, read as a learner's file is (no link, bounded).
    Raises NotebookError with a message that names the file."""
    try:
        return read_learner_file(path, MAX_NOTEBOOK)
    except OSError as exc:
        advice = f" {TOO_LARGE}" if exc.errno == errno.EFBIG else ""
        why = exc.strerror or exc
        raise NotebookError(f"{_shown(path)}: cannot be read ({why}).{advice}") from None


def notebook_cells(data: bytes, shown: str) -> list:
    """The cells of a notebook's bytes, checked to be nbformat 4's list of cells; `shown` is
    its name in messages. Raises NotebookError."""
    try:
        notebook = json.loads(data)
    except RecursionError:
        raise NotebookError(NOT_JSON.format(path=shown, why="nested too deeply")) from None
    except ValueError as exc:  # not UTF-8, or not JSON
        raise NotebookError(NOT_JSON.format(path=shown, why=_first_line(exc))) from None
    if not isinstance(notebook, dict) or ("cells" not in notebook and "worksheets" not in notebook):
        raise NotebookError(NOT_A_NOTEBOOK.format(path=shown))
    if notebook.get("nbformat") != 4:
        found = notebook.get("nbformat")
        version = found if isinstance(found, int) and not isinstance(found, bool) else "unknown"
        raise NotebookError(WRONG_FORMAT.format(path=shown, version=version))
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise NotebookError(NOT_A_NOTEBOOK.format(path=shown))
    if len(cells) > MAX_CELLS:
        raise NotebookError(TOO_MANY_CELLS.format(path=shown, n=len(cells), max=MAX_CELLS))
    return cells


def exercise_sources(data: bytes, shown: str) -> list[ExerciseSource]:
    """The exercises of a notebook's bytes, each with its cells joined, in the order of their
    first cells. Raises NotebookError where a cell is malformed, and where the notebook holds
    no exercise cell at all."""
    found: dict[str, list[tuple[int, str]]] = {}
    for n, cell in enumerate(notebook_cells(data, shown), 1):
        text, tags = _code_cell(shown, n, cell)
        if text is None:
            continue
        name = exercise_name(first_line(text), tags)
        if name is None:
            continue
        if not name:
            raise NotebookError(NO_NAME.format(path=shown, n=n))
        found.setdefault(name, []).append((n, text))
    if not found:
        raise NotebookError(NO_EXERCISE_CELL.format(path=shown))
    sources = []
    for name, cells in found.items():
        source, notes = graded_source([text for _, text in cells])
        sources.append(ExerciseSource(name, source, tuple(n for n, _ in cells), notes))
    return sources


def by_exercise(module: Module, data: bytes, shown: str) -> dict[Exercise, ExerciseSource]:
    """The exercises of a notebook's bytes, each resolved in `module`. Raises NotebookError
    for an exercise that does not exist, or one named two ways."""
    found: dict[Exercise, ExerciseSource] = {}
    for source in exercise_sources(data, shown):
        try:
            ex = module.exercise(source.name)
        except CourseError as exc:
            why = exc.message if source.name.isprintable() else UNPRINTABLE.format(name=source.name)
            raise NotebookError(f"{shown}, cell {source.cells[0]}: {why}") from None
        if ex in found:
            raise NotebookError(TWICE.format(path=shown, id=ex.id))
        found[ex] = source
    return found


def handed_in(
    module: Module, notebooks: dict[str, bytes], taken: set[str]
) -> tuple[list[tuple[str, str, bytes]], list[str]]:
    """A submission's notebooks (path in it -> bytes) as exercise files: (exercise id, the
    notebook's path, the source to grade) for each exercise no file of the submission gives
    (`taken`); and a note on each notebook or exercise cell not graded, and why."""
    graded: list[tuple[str, str, bytes]] = []
    notes: list[str] = []
    for path, data in sorted(notebooks.items()):
        try:
            found = by_exercise(module, data, path)
        except NotebookError as exc:
            notes.append(f"{exc.message} Not graded.")
            continue
        for ex, source in found.items():
            if ex.id in taken:
                notes.append(TAKEN.format(path=path, id=ex.id))
                continue
            taken.add(ex.id)
            graded.append((ex.id, path, source.source.encode("utf-8")))
    return graded, notes


def _code_cell(shown: str, n: int, cell: object) -> tuple[str | None, list[str]]:
    """A code cell's text and tags; (None, []) for any other kind of cell."""
    if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
        raise NotebookError(BAD_CELL.format(path=shown, n=n, what="is not a cell"))
    if cell["cell_type"] != "code":
        return None, []
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        source = "".join(source)
    if not isinstance(source, str):
        raise NotebookError(BAD_CELL.format(path=shown, n=n, what="has no text"))
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        raise NotebookError(BAD_CELL.format(path=shown, n=n, what=SURROGATE)) from None
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    tags = [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
    return source.replace("\r\n", "\n").replace("\r", "\n"), tags


@dataclass
class Staging:
    """Notebooks' exercise cells written as exercise files into `folder` (private, made by
    the caller), so that they are graded exactly as those files would be."""

    module: Module
    folder: Path
    origins: dict[Path, Path] = field(default_factory=dict)  # staged file -> its notebook
    notes: dict[Path, tuple[str, ...]] = field(default_factory=dict)

    def stage(self, notebook: Path) -> dict[Exercise, Path]:
        """Write the exercises of `notebook`; map each to the file written."""
        staged = {}
        place = self.folder / str(len(self.origins))
        found = by_exercise(self.module, read_notebook(notebook), _shown(notebook))
        for ex, source in found.items():
            path = place / ex.id / ex.file
            path.parent.mkdir(parents=True)
            path.write_text(source.source, encoding="utf-8")
            self.origins[path], self.notes[path] = notebook, source.notes
            staged[ex] = path
        return staged

    def origin(self, path: Path | None) -> Path | None:
        """The notebook a staged file came from; any other path as it is."""
        return self.origins.get(path, path) if path is not None else None


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive, on Windows
        return str(path)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


LEFT_OUT = "line {line} (`{text}`) is a shell or magic command: left out of the graded code"
MORE_LEFT_OUT = "and {n} more such lines, left out too"
JOINED = (
    "{n} cells of this exercise are graded together, in order, as one file: line numbers "
    "count from the top of the first"
)
NOT_JSON = (
    "{path} is not a notebook that can be read ({why}). Open it in Jupyter and save it "
    "again, or download it again from Colab (File > Download > Download .ipynb)."
)
NOT_A_NOTEBOOK = "{path} is JSON but not a Jupyter notebook (it has no list of cells)."
WRONG_FORMAT = (
    "{path} is a notebook of format version {version}; the grader reads version 4, what "
    "Jupyter and Colab write. Open it in Jupyter and save it again, which writes version 4."
)
TOO_LARGE = (
    "Pictures in its outputs count: clear them (Jupyter: Edit > Clear Outputs of All Cells) "
    "and save it."
)
TOO_MANY_CELLS = "{path} has {n} cells; a notebook the grader reads has at most {max}."
BAD_CELL = "{path}, cell {n}: {what}; the notebook is damaged. Open and save it in Jupyter."
SURROGATE = "its text is not valid Unicode"
NO_NAME = (
    "{path}, cell {n}: the exercise cell does not name its exercise. Its first line must be "
    "`%%exercise NN_slug`, as in the notebook that `course notebooks` writes."
)
NO_EXERCISE_CELL = (
    "{path} has no exercise cell: none starts with `%%exercise NN_slug` (nor is tagged "
    "`exercise` with a first line `# exercise: NN_slug`). Keep the first line of the "
    "exercise cell as the notebook gave it."
)
UNPRINTABLE = (
    "no exercise {name!r}: the name holds characters that cannot be shown; write it as "
    "`%%exercise NN_slug`, as in the notebook that `course notebooks` writes."
)
TAKEN = "{path}: exercise {id} not graded from this notebook: another file gives it"
TWICE = "{path} holds exercise {id} under two names; name it one way in every cell."
