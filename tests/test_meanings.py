"""A module's own explanations of library errors (courseware.meanings): read as data from its
grader/checks/meanings.py, every broken entry reported with its line, tried before the
grader's generic ones while that module is graded, and forgotten afterwards."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from courseware import meanings
from courseware.errors import ContentError
from grader.checking.errors import declared, explain
from tests.helpers import REPO

HIDDEN = {"type": "RuntimeError", "message": "Expected hidden[0] size (2, 7, 20), got [2, 4, 20]"}
UNPACK = {"type": "ValueError", "message": "too many values to unpack (expected 2)"}
TUPLE = {"type": "TypeError", "message": "tuple indices must be integers or slices, not tuple"}


def declare(root: Path, text: str) -> Path:
    """`text` as the meanings.py of a module at `root`."""
    (root / meanings.FILE).parent.mkdir(parents=True, exist_ok=True)
    (root / meanings.FILE).write_text(text, encoding="utf-8")
    return root


def test_this_module_explains_torchs_lstm_errors_in_its_words():
    own = meanings.load(REPO)
    assert "h0 has shape (2, 4, 20)" not in explain(HIDDEN)  # the engine alone knows no LSTM
    assert "nn.LSTM" not in explain(UNPACK)
    with declared(own):
        assert "h0 has shape (2, 4, 20), but for this input the LSTM expects" in explain(HIDDEN)
        assert "(nn.LSTM returns out, (h_n, c_n))" in explain(UNPACK)
        assert "nn.LSTM returns a pair, out and (h_n, c_n)" in explain(TUPLE)
    assert "nn.LSTM" not in explain(TUPLE)
    assert "h0 has shape" not in explain(HIDDEN)  # forgotten once the module is graded


def test_a_module_without_the_file_declares_nothing(tmp_path):
    assert meanings.load(tmp_path) == ()
    with declared(meanings.load(tmp_path)):
        assert explain(UNPACK).endswith("check what the call on the right returns.")


def test_its_own_words_come_before_the_generic_ones(tmp_path):
    declare(tmp_path, 'MEANINGS = [(r"too many values to unpack \\(expected (\\d)\\)", "{0}!")]\n')
    generic = explain(UNPACK)
    with declared(meanings.load(tmp_path)):
        assert explain(UNPACK) == "2!"
        assert explain({"type": "KeyError", "message": "'x'"}) == explain({"type": "KeyError"})
    assert explain(UNPACK) == generic


def test_a_modules_words_stay_with_the_grading_that_declared_them():
    """Another thread (a second grading on a worker) does not see them."""
    generic, seen = explain(UNPACK), []
    with declared([("too many values", "own")]):
        other = threading.Thread(target=lambda: seen.append(explain(UNPACK)))
        other.start()
        other.join()
        assert explain(UNPACK) == "own"
    assert seen == [generic]


def test_the_file_is_read_as_data_never_run(tmp_path):
    declare(tmp_path, 'import os\nos.mkdir("ran")\nMEANINGS = [("a", "b")]\n')
    assert meanings.load(tmp_path) == (("a", "b"),)
    assert not (tmp_path / "ran").exists()


BROKEN = """\
MEANINGS = [
    ("fine (\\\\d+)", "{0} is fine"),
    ("(unclosed", "never used"),
    ("one (group)", "{0} and {1}"),
    ("a", "b", "c"),
    (name_of_a_variable, "not a literal"),
]
"""


def test_every_broken_entry_is_reported_with_its_line(tmp_path):
    found, problems = meanings.read(declare(tmp_path, BROKEN))
    assert found == (("fine (\\d+)", "{0} is fine"),)
    lines = {p.line: p.message for p in problems}
    assert sorted(lines) == [3, 4, 5, 6] and {p.path for p in problems} == {
        "grader/checks/meanings.py"
    }
    assert "not a regular expression" in lines[3]
    assert "1 group(s)" in lines[4] and "IndexError" in lines[4]
    assert "pair of string literals" in lines[5] and "pair of string literals" in lines[6]
    with pytest.raises(ContentError, match=r"grader/checks/meanings.py:3: this pattern"):
        meanings.load(tmp_path)


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("MEANINGS = [\n  ('a', 'b'\n", 2, "not Python"),
        ("OTHER = []\n", 1, "declare MEANINGS = [(pattern, explanation), ...]"),
        ("X = 1\nMEANINGS = {'a': 'b'}\n", 2, "a list of pairs"),
    ],
)
def test_a_file_without_a_list_of_meanings_says_what_to_write(tmp_path, text, line, says):
    _, (problem,) = meanings.read(declare(tmp_path, text))
    assert problem.line == line and says in problem.message, problem
