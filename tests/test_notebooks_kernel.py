"""Every generated notebook, executed in a real Jupyter kernel (nbclient + ipykernel), one
kernel per notebook running every case in turn: the starter (0 points, not attempted), the
reference pasted under the %%exercise line (full marks), a mistake of the corpus (its targeted
feedback, and a plot where the check compares curves), and, in the first notebook, hostile
code in the learner's function (a loop that never ends, os._exit, a fork bomb): each is
reported and the kernel survives. The saved notebook then grades as its .py file does."""

from __future__ import annotations

import json
import re

import pytest
from nbclient import NotebookClient
from nbformat import v4

from courseware.content import load_module
from courseware.notebooks import notebook
from grader.verify import corpus
from tests.helpers import REPO

MODULE = load_module(REPO)
# A mistake whose failing check draws the learner's curve over the reference's; the other
# exercises take their first corpus mistake.
PLOTTED = {
    "04_forecasting": "no_training",
    "05_vanishing_gradients": "first_step_output",
    "06_variable_length": "padded_last_step",
}
HOSTILE = [  # the first lines of the learner's forward, and what the check must say
    (["while True:", "    pass"], "did not finish within"),
    (
        ["import contextlib, os", "with contextlib.suppress(OSError):",
         "    open({marker!r}, 'w').write('escaped')", "os._exit(3)"],
        "ended the grader",
    ),
    (["import os", "while True:", "    os.fork()"], "did not"),
]  # fmt: skip
ALIVE = "the kernel is still here"


def mistake(ex):
    """The corpus case the notebook of `ex` is checked with."""
    cases = [c for c in corpus(MODULE) if c.exercise == ex.id and c.catches and not c.needs]
    wanted = PLOTTED.get(ex.id)
    return next(c for c in cases if wanted in (None, c.path.parent.name))


def hostile(ex, lines: list[str]) -> str:
    """The reference of exercise 1 with `lines` run first in its forward."""
    source = ex.solution.read_text()
    head = "    def forward(self, x):\n"
    assert head in source
    return source.replace(head, head + "".join(f"        {line}\n" for line in lines))


def outputs(cell) -> tuple[str, str, int]:
    """A cell's text (plain), its HTML, and how many pictures it shows."""
    plain, html, pictures = [], [], 0
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        plain.append(out.get("text", "") + data.get("text/plain", ""))
        html.append(data.get("text/html", ""))
        pictures += "image/png" in data
    return "\n".join(plain), "\n".join(html), pictures


def checked(nb, source: str, ex) -> list:
    """Append an exercise cell holding `source` and a check cell; return the check cell."""
    nb.cells.append(v4.new_code_cell(f"%%exercise {ex.id}\n{source}"))
    nb.cells.append(v4.new_code_cell(f'check("{ex.id}")'))
    return nb.cells[-1]


@pytest.mark.slow
@pytest.mark.parametrize("ex", MODULE.exercises, ids=lambda ex: ex.id)
def test_a_notebook_runs_every_case_in_one_kernel(ex, module, zygote, tmp_path):
    from grader.grade import grade

    nb = notebook(MODULE, ex)
    starter = next(c for c in nb.cells if c.source == f'check("{ex.id}")')
    full = checked(nb, ex.solution.read_text(), ex)
    case = mistake(ex)
    wrong = checked(nb, case.path.read_text(), ex)
    marker = tmp_path / "escaped.txt"
    attacks = []
    if ex == MODULE.exercises[0]:
        for lines, says in HOSTILE:
            code = hostile(ex, [line.format(marker=str(marker)) for line in lines])
            attacks.append((checked(nb, code, ex), says))
    nb.cells.append(v4.new_code_cell(f"print({ALIVE!r})"))
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()

    text, html, _ = outputs(starter)
    assert f"Score: 0/{ex.points}" in text and "Not attempted" in text and "Score:" in html
    text, html, _ = outputs(full)
    assert f"Score: {ex.points}/{ex.points}" in text and f"Score: {ex.points}/{ex.points}" in html
    text, html, pictures = outputs(wrong)
    assert case.says.lower() in text.lower() and "Score:" in text, text
    assert pictures >= (ex.id in PLOTTED)
    for cell, says in attacks:
        text, _, _ = outputs(cell)
        assert f"Score: 0/{ex.points}" in text and says in text, text
    assert ALIVE in outputs(nb.cells[-1])[0]

    saved = tmp_path / "saved.ipynb"  # executed, with the mistake as its one exercise cell
    graded = nb.cells[nb.cells.index(wrong) - 1]
    kept = [c for c in nb.cells if c is graded or not c.source.startswith("%%exercise")]
    saved.write_text(json.dumps({**nb, "cells": kept}))
    as_nb = grade(module, saved, zygote=zygote).exercises[0]
    as_py = grade(module, case.path, zygote=zygote).exercises[0]
    assert as_nb.score == as_py.score < ex.points
    # Outside its folder the learner's code writes nothing where a filesystem view is in force
    # (the backend's report says; the portable backend claims none).
    if as_nb.isolation["filesystem_view"].startswith("allowlist"):
        assert not marker.exists()
    # A notebook's line numbers are the cell's, as Jupyter shows them: one below the file's,
    # for the %%exercise line above the code.
    in_cell = [
        re.sub(r"\bline (\d+)", lambda m: f"line {int(m[1]) + 1}", c.message) for c in as_py.checks
    ]
    assert [c.message for c in as_nb.checks] == in_cell
