"""`course notebooks`: write one notebook per exercise, never over a learner's work."""

from __future__ import annotations

from pathlib import Path

from courseware.content import Exercise, Module, load_module
from courseware.errors import CourseError
from courseware.exercise_cells import NotebookError, Staging
from courseware.files import write_atomically
from courseware.notebooks import FOLDER, file_name, render, untouched


def write(output: Path | None = None, force: bool = False) -> str:
    """Write the notebooks into `output` (default: notebooks/ in the learner's workspace,
    else in the current folder); a notebook whose exercise cells hold work is kept unless
    `force`. Says what was done."""
    from course.learning import learner_workspace
    from course.workspace import display

    module = load_module()
    workspace = learner_workspace(module)
    folder = output or (workspace.root if workspace else Path.cwd()) / FOLDER
    written, kept = [], []
    try:
        for ex in module.exercises:
            path = folder / file_name(ex)
            text = render(module, ex)
            if _current(path, text):
                continue
            if path.exists() and not force and _holds_work(module, ex, path):
                kept.append(display(path))
                continue
            write_atomically(path, text)
            written.append(path)
    except OSError as exc:
        from course.learning import cannot_write

        raise CourseError(cannot_write(exc, folder)) from None
    lines = [WROTE.format(n=len(written), folder=display(folder))] if written else [CURRENT]
    lines += [KEPT.format(path=path) for path in kept]
    return "\n".join([*lines, NEXT.format(folder=display(folder))])


def _current(path: Path, text: str) -> bool:
    try:
        return path.read_text("utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def _holds_work(module: Module, ex: Exercise, path: Path) -> bool:
    """True unless the exercise cells of the notebook at `path` are still the starter (an
    older notebook, safe to replace)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        try:
            staged = Staging(module, Path(tmp)).stage(path)
        except NotebookError:
            return True
        source = staged.get(ex)
        return source is None or not untouched(source.read_bytes(), ex)


WROTE = "Wrote {n} notebook(s) into {folder}."
CURRENT = "Every notebook was already up to date."
KEPT = "Kept {path}: its exercise cell holds your work (--force replaces it)."
NEXT = (
    "Open one in Jupyter (`jupyter lab {folder}`) or upload it to Colab; its first cell "
    "installs the course where it is missing."
)
