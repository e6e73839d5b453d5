"""check(), hint() and quiz() in a Jupyter or Colab notebook, and the %%exercise cell magic.

`from course.notebook import check, hint, quiz` (the notebooks' first cell) registers the
magic in IPython; `%load_ext course.notebook` does too. `%%exercise NN_slug` runs its cell in
the kernel as usual and records the cell's text: the kernel cannot see cell tags, and on Colab
there is no .ipynb file to read, so the magic is what makes `check` work everywhere.

`check("NN_slug")` grades the recorded code in the grader's own process (grader/service.py),
exactly as `course grade` grades the exercise's file: confined runners, the same checks, the
same JSON. The learner's code is never imported where verdicts are made; the service stays
warm, so a second check costs only the checks. The numbers the figures show come from that
report. IPython, matplotlib and ipywidgets are imported only when they are used.
"""

from __future__ import annotations

import atexit
import functools
import json
import subprocess
import sys
from dataclasses import dataclass

from course.notebook_view import View, figures, message_view, png, report_view, text_view
from courseware.content import Exercise, Module, load_module
from courseware.errors import CourseError
from courseware.exercise_cells import MAGIC, graded_source
from grader.figures import text_plot
from grader.results import Figure

_cells: dict[str, dict[str | None, str]] = {}  # exercise id -> {cell id: the whole cell}
_failing: dict[str, str | None] = {}  # exercise id -> its first failing check, for hints


@dataclass
class _Service:
    """The grader's process, kept for the kernel's life (it dies with the kernel)."""

    process: subprocess.Popen

    def ask(self, request: dict) -> dict:
        """Send one request and wait for its reply; OSError when the service has stopped."""
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise OSError("the grader's process stopped")
        return json.loads(line)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


_running: list[_Service] = []  # none, or the one service


@functools.cache
def _module() -> Module:
    return load_module()


def _service() -> _Service:
    """The running service, started now if there is none (it imports torch meanwhile)."""
    if _running and _running[0].process.poll() is None:
        return _running[0]
    _stop()
    command = [sys.executable, "-m", "grader.service", str(_module().root)]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.DEVNULL}
    _running.append(_Service(subprocess.Popen(command, text=True, encoding="utf-8", **pipes)))
    return _running[0]


@atexit.register
def _stop() -> None:
    while _running:
        _running.pop().stop()


def exercise(line: str, cell: str) -> None:
    """The %%exercise cell magic: record the cell for check(), then run it as usual."""
    from IPython import get_ipython

    shell = get_ipython()
    try:
        ex = _module().exercise(line.strip())
    except CourseError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
    else:
        _cells.setdefault(ex.id, {})[_cell_id(shell)] = f"{MAGIC} {line}\n{cell}"
        _service()  # warm: the check that follows finds torch imported
    shell.run_cell(cell, store_history=False)


def _cell_id(shell) -> str | None:
    """The id of the cell being run, where the front end sends one (JupyterLab, Notebook 7,
    VS Code): cells of one exercise are joined in the order they were first run, and a cell
    run again replaces its earlier text. Without an id, the last cell run is the one."""
    header = getattr(shell, "parent_header", None) or {}
    return (header.get("metadata") or {}).get("cellId")


def check(exercise: str, device: str = "auto") -> None:
    """Grade the code of the exercise's %%exercise cell, as `course grade` grades the file,
    and show what each check found (failures first) and the score, with the figures of the
    checks that compare curves. device: "auto" (CPU, and CUDA where there is one), "cpu"
    or "cuda"."""
    try:
        ex = _module().exercise(exercise)
    except CourseError as exc:
        return _display(text_view(f"Error: {exc.message}"))
    score = f"Score: 0/{ex.points}"
    if ex.id not in _cells:
        return _display(message_view(ex.id, ex.title, NOT_RUN.format(id=ex.id), score))
    source, notes = graded_source(list(_cells[ex.id].values()))
    try:
        reply = _service().ask({"exercise": ex.id, "source": source, "device": device})
    except KeyboardInterrupt:
        _stop()  # it may be mid-grade: the next check starts a fresh one
        raise
    except (OSError, ValueError) as exc:
        _stop()
        return _display(message_view(ex.id, ex.title, STOPPED.format(why=exc), score))
    if "error" in reply:
        return _display(message_view(ex.id, ex.title, str(reply["error"]), score))
    _failing[ex.id] = _first_failing(reply)
    _display(report_view(ex.id, ex.title, reply, notes), figures(reply))


def _first_failing(report: dict) -> str | None:
    failed = [t.get("check") for t in report["tests"] if t["status"] != "passed"]
    return failed[0].split("[")[0] if failed and failed[0] else None


def hint(exercise: str) -> None:
    """Show the next hint of the exercise you have not seen (one more each time), from the
    same ladder as `course grade --hints`, first those for the check that last failed."""
    from course import learning, state

    try:
        ex: Exercise = _module().exercise(exercise)
        workspace = learning.learner_workspace(_module())
        key = workspace.key if workspace else state.GLOBAL
        _display(text_view(learning.next_hint(ex, key, _failing.get(ex.id))))
    except CourseError as exc:
        _display(text_view(f"Error: {exc.message}"))


def quiz(bank: str | None = None, seed: int | None = None, count: int | None = None) -> None:
    """Take the module's quiz here, one question at a time: with widgets (ipywidgets) where
    the notebook shows them, else with typed answers. The same feedback, scoring and history
    as `course quiz`."""
    from course.notebook_quiz import start

    try:
        start(bank, seed, count)
    except CourseError as exc:
        _display(text_view(f"Error: {exc.message}"))


def _display(view: View, drawn: list[Figure] = ()) -> None:
    """Show `view` and the figures: rich output in IPython, plain text elsewhere."""
    shell = _shell()
    if shell is None:
        print("\n\n".join([view.text, *(text_plot(f) for f in drawn)]))
        return
    from IPython.display import display

    display({"text/plain": view.text, "text/html": view.html}, raw=True)
    for figure in drawn:
        bundle = {"text/plain": text_plot(figure)}
        if (image := png(figure)) is not None:
            bundle["image/png"] = image
        display(bundle, raw=True)


def _shell():
    """The IPython shell running this code, if any (IPython is imported already where one
    runs, so elsewhere nothing is imported)."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


def load_ipython_extension(shell) -> None:
    """`%load_ext course.notebook`: register the %%exercise magic."""
    shell.register_magic_function(exercise, magic_kind="cell", magic_name="exercise")


NOT_RUN = (
    "Nothing to check yet: run the exercise cell first (the one that begins with "
    '%%exercise {id}), then check("{id}") again.'
)
STOPPED = (
    "The grader's process stopped before it answered ({why}); this is not your fault. Run "
    "the check again: it starts a fresh one."
)

if (_ipython := _shell()) is not None:
    load_ipython_extension(_ipython)
