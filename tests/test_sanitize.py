"""The sanitiser at the boundary: attacks written by hand, then arbitrary text, bytes and names
pushed through every writer (terminal, JSON, Gradescope, JUnit, Classroom, CSV, SQLite)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.batch import Outcome
from grader.formats import FORMATS
from grader.gradebook import Gradebook
from grader.report import terminal, use_colour
from grader.results import (
    ERROR,
    FAILED,
    GRADED,
    NOT_ATTEMPTED,
    PASSED,
    CheckResult,
    ExerciseResult,
    GradeReport,
)
from grader.sanitize import clean, clean_id, csv_cell, id_flags
from tests.helpers import REPO, unsafe

SCHEMA = json.loads((REPO / "tests/schemas/gradescope_results.schema.json").read_text())
ATTACKS = {
    "clear screen": "\x1b[2J\x1b[H",
    "window title": "\x1b]0;owned\x07",
    "clipboard write": "\x1b]52;c;cm0gLXJmIH4=\x1b\\",
    "rewritten line": "\x1b[1A\x1b[2KTotal: 50/50",
    "8-bit CSI": "\x9b2J",
    "NUL and BEL": "a\x00b\x07",
    "reversed text": "\u202e05/05 :latoT",
    "carriage return": "0/50\rTotal: 50/50",
    "lone surrogate": "\ud800",
    "XML-invalid": "\ufffe\uffff\x0b\x0c",
}
FORMULAS = ['=HYPERLINK("http://evil","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_clean_defuses_each_attack(attack):
    cleaned = clean(f"before {attack} after")
    assert unsafe(cleaned) == []
    assert cleaned.startswith("before ") and cleaned.endswith(" after")  # the rest stays
    cleaned.encode("utf-8")  # no UnicodeEncodeError in any writer
    assert "owned" not in cleaned and "cm0g" not in cleaned  # whole escapes go, payload too


def test_clean_keeps_what_people_write():
    text = "Tab\tand newline\nJosé, 漢字, emoji 😀, \U0001f600 and a real pair \ud83d\ude00"
    assert clean(text) == text.replace("\ud83d\ude00", "😀")


def test_ids_are_nfc_and_never_empty():
    assert clean_id("Jose\u0301") == clean_id("Jos\u00e9") == "Jos\u00e9"
    assert clean_id("\x1b[2J") == "(unnamed)"
    assert clean_id("sur\udcff") == "sur\ufffd"  # a name that is not UTF-8 (os.fsdecode)


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_cells_never_start_a_formula(formula):
    assert csv_cell(formula) == "'" + formula
    assert csv_cell("ada") == "ada" and csv_cell("José") == "José"


def test_look_alike_and_invisible_ids_are_flagged_not_merged():
    ids = {
        "ada": ["ada"],
        "\u0430da": ["\u0430da"],  # Cyrillic а
        "ada\u200b": ["ada\u200b"],  # zero-width space
        "ａｄａ": ["ａｄａ"],  # fullwidth
        "Jos\u00e9": ["Jose\u0301"],  # arrived in NFD
        "bob": ["bob"],
    }
    flags = id_flags(ids)
    assert set(flags) == set(ids) - {"bob"}
    assert "looks like" in " ".join(flags["ada"])
    assert any("mixes scripts" in f for f in flags["\u0430da"])
    assert any("U+200B" in f for f in flags["ada\u200b"])
    assert flags["Jos\u00e9"] == ["name normalised to NFC"]
    assert id_flags({"ada": ["ada"], "bob": ["bob"], "Jos\u00e9": ["Jos\u00e9"]}) == {}


def test_the_result_model_cleans_every_assignment():
    ex = ExerciseResult("01_lstm_network", "LSTM", 10, "a\x1b[2J.py", GRADED)
    ex.output = "printed \x1b]0;t\x07\ud800"  # set after construction, as grade() does
    check = CheckResult("01_lstm_network", "t", "T", FAILED, 0, 1, message="\x00boom\x1b[31m")
    assert (ex.file, ex.output, check.message) == ("a.py", "printed \ufffd", "boom")


def test_colour_only_on_a_terminal_without_no_color(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(Tty()) and not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(Tty())


def test_a_fake_total_in_learner_output_is_not_a_line_of_ours():
    report = hostile_report(ATTACKS["rewritten line"] + ATTACKS["carriage return"], "x.py", "ada")
    text = terminal(report, verbose=True, colour=False)
    assert unsafe(text) == []
    assert [line for line in text.splitlines() if line.startswith("Total:")] == [
        text.splitlines()[-2]
    ]  # ours, the real one (the learner's are indented under their check)


# ------------------------------------------------------------------ every writer, any text


def hostile_report(text: str, name: str, target: str) -> GradeReport:
    """A report with `text` wherever learner text can land: messages, tracebacks, printed
    output, file names and the target."""
    failed = CheckResult(
        "01_lstm_network", f"test_{name}[cpu]", f"Check {name}", FAILED, 0.0, 2.0, text, text,
        "cpu", 0.5,
    )  # fmt: skip
    passed = CheckResult("01_lstm_network", "test_ok", "Builds", PASSED, 2.0, 2.0)
    graded = ExerciseResult(
        "01_lstm_network", "LSTM", 4, name, GRADED, checks=[failed, passed], output=text
    )
    untouched = ExerciseResult("02_training_step", "Training", 10, None, NOT_ATTEMPTED, text)
    broken = ExerciseResult("03_lstm_cell", "Cell", 12, name, ERROR, text)
    return GradeReport(target, [graded, untouched, broken], ["cpu"], {"torch": "2"}, 1.5)


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


ANY_TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=())),  # surrogates and controls included
    st.binary().map(lambda b: b.decode("utf-8", "surrogateescape")),  # names that are bytes
    st.lists(st.sampled_from([*ATTACKS.values(), *FORMULAS, "a", "\n", "\t", " "])).map("".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=ANY_TEXT, name=ANY_TEXT, learner=ANY_TEXT)
def test_every_writer_gives_valid_output_without_control_characters(text, name, learner):
    report = hostile_report(text, name, name)
    shown = terminal(report, verbose=True, colour=False)
    assert unsafe(shown) == []
    for fmt in ("json", "gradescope", "classroom"):
        data = json.loads(FORMATS[fmt](report))
        assert not [s for s in strings(data) if unsafe(s)], fmt
    jsonschema.validate(json.loads(FORMATS["gradescope"](report)), SCHEMA)
    suites = ET.fromstring(FORMATS["junit"](report).encode("utf-8"))  # well-formed XML
    assert len(suites.findall("testsuite/testcase")) == 4
    with tempfile.TemporaryDirectory() as tmp:
        book = Gradebook(Path(tmp) / "book.sqlite")
        book.record(Outcome(clean_id(learner), "h", report, 1.0, error=text))
        book.set_flags(id_flags({clean_id(learner): [learner]}))
        table = book.csv_text(["01_lstm_network", "02_training_step"])
        book.close()
        with sqlite3.connect(Path(tmp) / "book.sqlite") as db:
            stored = [v for row in db.execute("SELECT * FROM checks") for v in row]
            stored += [v for row in db.execute("SELECT * FROM learners") for v in row]
    assert not [v for v in stored if isinstance(v, str) and unsafe(v)]
    (header, row) = list(csv.reader(io.StringIO(table)))
    assert header[0] == "learner" and len(row) == len(header)
    assert not [cell for cell in row if unsafe(cell) or cell.startswith(("=", "+", "-", "@"))]
