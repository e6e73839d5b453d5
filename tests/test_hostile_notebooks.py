"""Notebooks a learner could hand in to trip the grader: graded as IPython runs them (no false
"wrong" for lines that only look like shell or magic commands, no "no exercise cell" for a
magic after blank lines), and nothing a cell names reaches a report unmade-safe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from courseware.errors import CourseError
from courseware.exercise_cells import MAX_CELLS, exercise_sources, graded_source
from grader.grade import GradeOptions, grade
from tests.helpers import solution

EX = "01_lstm_network"


def notebook(*sources: str, **cell) -> bytes:
    cells = [{"cell_type": "code", "source": s, "metadata": {}, **cell} for s in sources]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}).encode()


def ipython_escapes(cell: str) -> list[int]:
    """The lines of `cell` (after its first) that IPython turns into shell or magic calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    body = cell.split("\n", 1)[1]
    ran = TransformerManager().transform_cell(body).split("\n")
    return [n + 1 for n, line in enumerate(ran) if "get_ipython()" in line]


def left_out(cell: str) -> list[int]:
    source, _ = graded_source([cell])
    graded, given = source.split("\n"), cell.split("\n")
    return [n for n in range(1, len(given)) if given[n].strip() and not graded[n].strip()]


CELLS = {  # cells whose lines look like commands where IPython reads Python, and the reverse
    "operators at the start of a line": "%%exercise 01\nok = (a\n    != b)\nm = (7\n    % 3)\n",
    "a string's lines": '%%exercise 01\ns = """\n%d items\n!done\n"""\nt = \'a\\\n%x\'\n',
    "a backslash": "%%exercise 01\nx = 1 + \\\n    % 2\n",
    "a comment's bracket": "%%exercise 01\nx = 1  # (\n!ls\n",
    "a quote in a comment": "%%exercise 01\nx = 1  # it's\n%time y = 2\n",
    "commands in a block": "%%exercise 01\nif x:\n    !ls\n    %time f()\nz = [1,\n 2]\n!pwd\n",
}


@pytest.mark.parametrize("cell", CELLS.values(), ids=CELLS.keys())
def test_lines_are_left_out_exactly_where_ipython_runs_a_command(cell):
    assert left_out(cell) == ipython_escapes(cell)


def test_a_notebook_whose_operators_start_lines_grades_as_its_file(module, zygote, tmp_path):
    """Black puts `!=` and `%` at the start of a continued line: that is Python, as in the
    kernel, never a SyntaxError of the grader's making."""
    code = solution(module, EX) + "\n_differ = (1\n    != 2)\n_rest = (7\n    % 3)\n"
    path = tmp_path / "work.ipynb"
    path.write_bytes(notebook(f"%%exercise {EX}\n{code}"))
    (result,) = grade(module, path, GradeOptions(exercises=(EX,)), zygote=zygote).exercises
    assert result.complete, [c.message for c in result.checks]


def test_blank_lines_before_the_magic_are_skipped_as_ipython_skips_them():
    (found,) = exercise_sources(notebook(f"\n  \n%%exercise {EX}\nx = 1\n!ls\n"), "nb.ipynb")
    assert found.name == EX
    assert found.source.split("\n")[:5] == ["", "", "", "x = 1", ""]


NAMED = {  # what an exercise cell's first line names, and what the message must say
    "an escape sequence": ("\x1b[2J\x1b[31mScore: 10/10", r"no exercise '\x1b[2J"),
    "a right-to-left override": ("01\u202e", r"no exercise '01\u202e'"),
    "a folder above": ("../../x.py", "no exercise '../../x.py'"),
}


@pytest.mark.parametrize(("name", "says"), NAMED.values(), ids=NAMED.keys())
def test_a_name_a_cell_gives_is_shown_safely(module, tmp_path, name, says):
    path = tmp_path / "odd.ipynb"
    path.write_bytes(notebook(f"%%exercise {name}\nx = 1\n"))
    with pytest.raises(CourseError) as raised:
        grade(module, path)
    message = raised.value.message
    assert says in message and "\x1b" not in message and "\u202e" not in message


def test_a_batch_notes_what_a_cell_names_without_its_escapes(module, tmp_path):
    from grader.handin import read_handin

    entry = tmp_path / "ada.ipynb"
    entry.write_bytes(notebook("%%exercise \x1b]8;;http://x\x07=cmd|' /C calc'!A0\nx = 1\n"))
    handin = read_handin(module, entry, GradeOptions())
    assert handin.files == () and len(handin.notes) == 1
    assert "ada.ipynb, cell 1" in handin.notes[0] and "\x1b" not in handin.notes[0]
    assert "\x07" not in handin.notes[0]


def notebook_bytes(*cells) -> bytes:
    """A notebook of these cells as given, whatever they are."""
    return json.dumps({"nbformat": 4, "cells": list(cells)}).encode()


HOSTILE = {  # a notebook's bytes (some that Jupyter would refuse or read differently), and what
    # the message about it must say
    "not-json": (b"{not json", "is not a notebook that can be read"),
    "not-utf8": (b"\xff\xfe\x00garbage", "is not a notebook that can be read"),
    "deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "nbformat-3": (json.dumps({"nbformat": 3, "worksheets": []}).encode(), "format version 3"),
    "no-cells": (json.dumps({"nbformat": 4, "cells": "x"}).encode(), "not a Jupyter notebook"),
    "bad-cell": (notebook_bytes(7), "cell 1: is not a cell"),
    "empty": (notebook_bytes(), "has no exercise cell"),
    "a-million-cells": (notebook_bytes(*[{}] * 1_000_000), f"at most {MAX_CELLS}"),
    "unknown": (notebook("%%exercise 99_no"), "cell 1: no exercise '99_no'"),
    "unnamed": (notebook("%%exercise\nx"), "does not name its exercise"),
    "surrogate": (notebook("%%exercise 01\n\ud800"), "not valid Unicode"),
    "a source of numbers": (notebook(["%%exercise 01\n", 5]), "cell 1: has no text"),
    "a null source": (notebook(None), "cell 1: has no text"),
    "a tag without the first line": (
        notebook("x = 1", metadata={"tags": ["exercise"]}),
        "has no exercise cell",
    ),
    "a cell type that is a list": (
        json.dumps({"nbformat": 4, "cells": [{"cell_type": ["code"], "source": ""}]}).encode(),
        "cell 1: is not a cell",
    ),
}


@pytest.mark.parametrize(("content", "says"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_notebook_gets_a_message_naming_it(module, tmp_path, content, says):
    path = tmp_path / "odd.ipynb"
    path.write_bytes(content)
    with pytest.raises(CourseError) as raised:
        grade(module, path)
    assert "odd.ipynb" in raised.value.message and says in raised.value.message


def test_duplicate_keys_are_read_as_jupyter_reads_them():
    """The last of a key given twice counts, in the grader as in nbformat (both read JSON
    with Python's json): the cell the learner saw in Jupyter is the one graded."""
    import nbformat

    text = (
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code",'
        ' "id": "a", "metadata": {}, "outputs": [], "execution_count": null,'
        ' "source": "%%exercise 01\\nx = 1", "source": "%%exercise 01\\ny = 2"}]}'
    )
    (found,) = exercise_sources(text.encode(), "nb.ipynb")
    seen = nbformat.reads(text, as_version=4).cells[0].source
    assert found.source == graded_source([seen])[0] and "y = 2" in found.source


def test_outputs_too_large_say_how_to_make_the_notebook_readable(module, tmp_path):
    path = tmp_path / "pictures.ipynb"
    data = {"image/png": "A" * (33 << 20)}  # a picture's base64, past the 32 MiB read
    picture = {"output_type": "display_data", "metadata": {}, "data": data}
    path.write_bytes(notebook(f"%%exercise {EX}\nx = 1", outputs=[picture]))
    with pytest.raises(CourseError) as raised:
        grade(module, Path(path))
    assert "pictures.ipynb" in raised.value.message and "Clear Outputs" in raised.value.message
