"""`course quiz` through click's CliRunner, on a tiny course of its own: typed and scripted
answers, feedback and review, --json, --history, NO_COLOR, content errors before the start, and
the history surviving interrupted runs."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from course import history
from course.cli import main
from course.quiz import NUMBER_EXAMPLES, SUCH_AS
from courseware.content import load_module
from courseware.quizbank import Numeric, ShortText, arrange, load_bank
from tests.helpers import BANK, LONG, WIDE_BANK, make_course

REPO = Path(__file__).resolve().parents[1]
RIGHT = "a;a,b;2560;forget gate"
RIGHT_LINES = "a\na,b\n2560\nforget gate\n"
ANY_ORDER = "a\n2560\n" * 8  # answers every question in any order (unreadable lines are re-asked)


@pytest.fixture
def course(tmp_path, monkeypatch) -> Path:
    root = make_course(tmp_path / "course")
    monkeypatch.setenv("COURSE_ROOT", str(root))
    monkeypatch.chdir(tmp_path)  # not inside this checkout, a workspace of its own
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    return root


def quiz(*args: str, input: str | io.BytesIO | None = None, color: bool = False):
    return CliRunner().invoke(main, ["quiz", *args], input=input, color=color)


def saved() -> list[history.Attempt]:
    return history.attempts(workspace=None)  # in any workspace


# --- the command is thin ----------------------------------------------------------------------


def test_the_command_hands_its_options_to_the_session(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr("course.quiz.run", lambda *a, **kw: calls.append((a, kw)))
    out = tmp_path / "out.json"
    args = ["lstm", "--seed", "3", "--no-shuffle", "--count", "2", "--answers", "b;c"]
    result = quiz(*args, "--json", str(out))
    assert result.exit_code == 0, result.output
    assert calls == [
        (
            ("lstm",),
            dict(seed=3, shuffle=False, count=2, answers="b;c", json_path=out),
        )
    ]


def test_the_history_option_only_lists(monkeypatch):
    calls = []
    monkeypatch.setattr("course.quiz.show_history", calls.append)
    monkeypatch.setattr("course.quiz.run", lambda *a, **kw: pytest.fail("ran a quiz"))
    assert quiz("--history").exit_code == 0
    assert quiz("tiny", "--history").exit_code == 0
    assert calls == [None, "tiny"]


@pytest.mark.parametrize("bad", [["--count", "0"], ["--seed", "x"]])
def test_bad_options_are_usage_errors(bad):
    result = quiz(*bad)
    assert result.exit_code == 2
    assert "Invalid value" in result.output


# --- taking the quiz --------------------------------------------------------------------------


def test_a_scripted_run_scores_and_saves(course):
    result = quiz("--no-shuffle", "--answers", RIGHT)
    assert result.exit_code == 0, result.output
    assert result.output.count("Correct.") == 4
    assert "Score: 4/4" in result.output
    assert "missed" not in result.output
    (attempt,) = saved()
    assert (attempt.bank, attempt.score, attempt.max_score, attempt.seed) == ("tiny", 4, 4, None)
    assert [q.id for q in attempt.questions] == ["time-dim", "sigmoid-gates", "count", "which-gate"]


def test_wrong_answers_get_feedback_partial_credit_and_a_review(course):
    result = quiz("--no-shuffle", "--answers", "b;a;640;Input Gate")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Not quite. The answer: a) Dimension 0\n  On b: That is the batch." in out
    assert "Partly right: 0.5 of 1. The answer:\n  a) The forget gate\n  b) The input gate" in out
    assert "Not quite. The answer: 2560\n  One gate only." in out
    assert "The input gate is i_t." in out
    assert "Why: Time comes first by default." in out
    assert "Score: 0.5/4" in out
    assert "Review of the 4 missed:" in out
    assert "  3. How many parameters has nn.LSTM(10, 20)?\n     You answered 640." in out
    assert "Objectives to revisit:\n  gates: Name the gates.\n  parameters:" in out
    (attempt,) = saved()
    assert [q.credit for q in attempt.questions] == [0, 0.5, 0, 0]
    assert [q.given for q in attempt.questions] == ["b", "a", "640", "Input Gate"]


def test_typed_answers_are_read_line_by_line_and_asked_again_when_unreadable(course):
    typed = "z\n\na\nq\nb a\n2,560\n2560\n\nforget\n"
    result = quiz("--no-shuffle", input=typed)
    assert result.exit_code == 0, result.output
    assert "Please type a letter from a to b, not 'z'." in result.output
    assert "Please type a letter from a to b.\n" in result.output  # an empty line, not quoted
    assert "not ''" not in result.output
    assert "Please type a letter from a to c, not 'q'." in result.output
    assert f"Please type a number, {SUCH_AS}." in result.output
    assert "Please type a word or a few." in result.output
    assert "Score: 4/4" in result.output


def test_input_that_ends_early_saves_nothing(course):
    result = quiz("--no-shuffle", input="a\na,b\n")
    assert result.exit_code == 2
    assert "the input ended at question 3 of 4, so nothing was saved." in result.output
    assert "Traceback" not in result.output
    assert saved() == []


def test_json_report(course, tmp_path):
    report = tmp_path / "report.json"
    result = quiz("--no-shuffle", "--answers", "a;a,c;2560;forget", "--json", str(report))
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert (data["bank"], data["score"], data["max_score"]) == ("tiny", 3, 4)
    assert data["questions"][1] == {
        "id": "sigmoid-gates",
        "objective": "gates",
        "type": "multiple",
        "given": "a,c",
        "expected": "a,b",
        "credit": 0.0,
        "correct": False,
    }
    assert data["questions"][3]["given"] == "forget"
    assert data["questions"][3]["correct"] is True
    assert [p.name for p in report.parent.iterdir() if p.name.startswith(".")] == []


def test_json_into_a_missing_folder_is_refused_before_the_start(course, tmp_path):
    result = quiz("--answers", RIGHT, "--json", str(tmp_path / "nowhere" / "r.json"))
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert "Question 1" not in result.output


def prompts(output: str) -> list[str]:
    """The prompt of each question asked, in order."""
    lines = output.splitlines()
    return [lines[i + 1] for i, line in enumerate(lines) if line.startswith("Question ")]


def test_seed_shuffle_and_count(course):
    bank = load_module(course).quizzes[0]
    drawn = [i.question.prompt for i in arrange(bank, shuffle=True, seed=11, count=3)]
    first = quiz("--shuffle", "--seed", "11", "--count", "3", input=ANY_ORDER)
    again = quiz("--shuffle", "--seed", "11", "--count", "3", input=ANY_ORDER)
    assert first.exit_code == 0, first.output
    assert "Tiny quiz: 3 questions, shuffled with seed 11 (--seed 11 repeats it)" in first.output
    assert first.output == again.output
    assert prompts(first.output) == drawn
    plain = quiz("--no-shuffle", "--count", "2", input=ANY_ORDER)
    assert prompts(plain.output) == [q.prompt for q in bank.questions[:2]]
    assert "Tiny quiz: 2 questions\n" in plain.output


@pytest.mark.parametrize("seed", [str(2**63), str(-(2**63) - 1)])
def test_a_seed_past_64_bits_is_refused_and_help_spells_no_bounds(course, seed):
    result = quiz("--seed", seed, input=ANY_ORDER)
    assert result.exit_code == 2 and "the seed must lie within ±2**63" in result.output
    assert not saved() and "Traceback" not in result.output
    assert "9223372036854775807" not in quiz("--help").output
    kept = quiz("--shuffle", "--seed", str(2**63 - 1), input=ANY_ORDER)
    assert kept.exit_code == 0 and saved()[0].seed == 2**63 - 1


def test_shuffling_without_a_seed_draws_and_records_one(course):
    result = quiz("--shuffle", input=ANY_ORDER)
    assert result.exit_code == 0, result.output
    (attempt,) = saved()
    assert f"shuffled with seed {attempt.seed} (--seed {attempt.seed} repeats it)" in result.output


def test_count_larger_than_the_bank(course):
    result = quiz("--count", "9")
    assert result.exit_code == 2
    assert "--count 9: the bank 'tiny' has only 4 questions." in result.output


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ("a;b", "--answers has 2 answers (separated by ';') but the quiz asks 4 questions."),
        ("c;a,x;many;", "answer 1 ('c'): type a letter from a to b, not 'c'"),
        ("c;a,x;many;", "answer 2 ('a,x'): type a letter from a to c, not 'x'"),
        ("c;a,x;many;", f"answer 3 ('many'): type a number, {SUCH_AS}"),
        ("c;a,x;many;", "answer 4 (''): type a word or a few"),
    ],
)
def test_unreadable_scripted_answers_are_refused_before_the_start(course, answers, message):
    result = quiz("--no-shuffle", "--answers", answers)
    assert result.exit_code == 2
    assert message in result.output
    assert "Question 1" not in result.output
    assert saved() == []


def test_banks_by_id_or_path_and_unknown_ones(course, monkeypatch):
    assert quiz("tiny", "--no-shuffle", "--answers", RIGHT).exit_code == 0
    path = str(course / "quizzes" / "tiny.yaml")
    assert quiz(path, "--no-shuffle", "--answers", RIGHT).exit_code == 0
    monkeypatch.chdir(course)
    assert quiz("quizzes/tiny.yaml", "--no-shuffle", "--answers", RIGHT).exit_code == 0
    result = quiz("lstm")
    assert result.exit_code == 2
    assert "no quiz bank 'lstm'. Name one by id or path:\n  tiny  (quizzes/tiny.yaml, 4" in (
        result.output
    )
    assert len(saved()) == 3


def module_questions() -> list:
    """Every question of the module's own banks (read alone: the rest may be mid-edit)."""
    manifest = yaml.safe_load((REPO / "course.yaml").read_text(encoding="utf-8"))
    objectives = {o["id"] for o in manifest["objectives"]}
    problems: list = []
    banks = [load_bank(REPO / rel, rel, problems, objectives) for rel in manifest["quizzes"]]
    assert problems == []
    return [q for bank in banks for q in bank.questions]


def test_the_number_examples_answer_no_question_of_the_module():
    numeric = [q for q in module_questions() if isinstance(q, Numeric)]
    assert numeric and f"such as {NUMBER_EXAMPLES[0]} or {NUMBER_EXAMPLES[1]}" == SUCH_AS
    for example in NUMBER_EXAMPLES:
        assert not [q.id for q in numeric if q.score(float(example)).correct], example
    texts = [q for q in module_questions() if isinstance(q, ShortText)]
    assert not [q.id for q in texts if q.score("a few words").correct]


def test_one_question_is_not_questions(course):
    result = quiz("--no-shuffle", "--count", "1", "--answers", "a")
    assert result.exit_code == 0, result.output
    assert "Tiny quiz: 1 question\n" in result.output
    many = quiz("--no-shuffle", "--count", "1", "--answers", "a;b")
    assert "--answers has 2 answers (separated by ';') but the quiz asks 1 question." in (
        many.output
    )
    one = quiz("--no-shuffle", "--count", "2", "--answers", "a")
    assert "--answers has 1 answer (separated by ';') but the quiz asks 2 questions." in (
        one.output
    )


@pytest.mark.parametrize("columns", [40, 72])
def test_text_is_wrapped_to_the_terminal_width(tmp_path, monkeypatch, columns):
    root = make_course(tmp_path / "course", WIDE_BANK)
    monkeypatch.setenv("COURSE_ROOT", str(root))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", str(columns))
    result = quiz("--no-shuffle", "--answers", "b;a,b;2560;forget")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if str(tmp_path) not in line]
    too_long = [line for line in lines if len(line) > columns]
    assert too_long == []
    assert "`pack_padded_sequence(x," in result.output  # code is broken only at its spaces
    assert "     word word" in result.output  # a choice's lines hang under its text
    words = " ".join(result.output.split())
    assert " ".join(LONG.split()) in words  # nothing lost in the wrapping


def test_piped_output_is_wrapped_to_80_columns(course, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    (course / "quizzes" / "tiny.yaml").write_text(WIDE_BANK)
    result = quiz("--no-shuffle", "--answers", RIGHT)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if str(course.parent) not in line]
    assert 70 < max(len(line) for line in lines) <= 80


# --- content errors ----------------------------------------------------------------------------


BROKEN = (
    BANK.replace("answer: a\n", "answer: e\n")
    .replace("answer: 2560", "answer: 2,560")
    .replace("partial_credit", "partial_credits")
)
BROKEN_LINES = [
    "quizzes/tiny.yaml:12: answer: 'e' is not among the choices a to b",
    "quizzes/tiny.yaml:14: missing required key 'partial_credit'",
    "quizzes/tiny.yaml:24: unknown key 'partial_credits'; did you mean 'partial_credit'?",
    "quizzes/tiny.yaml:30: answer: must be a number, not '2,560'",
]


@pytest.mark.parametrize("command", [["quiz", "--answers", RIGHT], ["quiz"], ["validate"]])
def test_content_errors_are_all_reported_before_the_quiz_starts(course, command):
    (course / "quizzes" / "tiny.yaml").write_text(BROKEN)
    result = CliRunner().invoke(main, command, input=RIGHT_LINES)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert lines[0] == "Error: the course content has 4 problems:"
    assert lines[1:5] == BROKEN_LINES
    assert "Question" not in result.output
    assert saved() == []


def test_a_yaml_syntax_error_is_a_content_error(course):
    (course / "quizzes" / "tiny.yaml").write_text(BANK.replace("title: Tiny quiz", "title: [x"))
    result = quiz()
    assert result.exit_code == 2
    assert "quizzes/tiny.yaml:3: YAML syntax error" in result.output


# --- history ----------------------------------------------------------------------------------


def test_history_lists_past_attempts(course):
    assert f"No quiz attempts in {course} yet" in quiz("--history").output
    quiz("--no-shuffle", "--answers", RIGHT)
    quiz("--shuffle", "--seed", "5", input=ANY_ORDER)
    result = quiz("--history")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"Quiz history of the attempts in {course} ({history.history_file()}):"
    assert lines[1].endswith("  tiny  4/4  100%  not shuffled")
    assert lines[2].endswith("seed 5")
    assert len(lines) == 3
    assert "No quiz attempts in" in quiz("other", "--history").output


class InterruptAfter(io.BytesIO):
    """Standard input that delivers some lines, then Ctrl-C as the learner types."""

    def read1(self, size: int = -1) -> bytes:
        data = super().read1(size)
        if size and not data:
            raise KeyboardInterrupt
        return data

    read = read1


def test_ctrl_c_leaves_the_history_as_it_was(course, tmp_path):
    quiz("--no-shuffle", "--answers", RIGHT)
    before = history.history_file().read_bytes()
    report = tmp_path / "r.json"
    result = quiz("--no-shuffle", "--json", str(report), input=InterruptAfter(b"a\n"))
    assert result.exit_code == 130
    assert result.output.splitlines()[-1] == "Quiz stopped at question 2 of 4; nothing was saved."
    assert "Traceback" not in result.output
    assert history.history_file().read_bytes() == before
    assert not report.exists()
    assert len(saved()) == 1


def test_ctrl_c_while_saving_waits_for_the_save(course, monkeypatch, tmp_path):
    record = history.record

    def record_and_interrupt(attempt, workspace):
        signal.raise_signal(signal.SIGINT)  # Ctrl-C arrives in the middle of the save
        return record(attempt, workspace)

    monkeypatch.setattr(history, "record", record_and_interrupt)
    report = tmp_path / "r.json"
    result = quiz("--no-shuffle", "--answers", RIGHT, "--json", str(report))
    assert result.exit_code == 130
    assert result.output.splitlines()[-1] == "Quiz stopped; the attempt had already been saved."
    assert [a.score for a in saved()] == [4]
    assert json.loads(report.read_text())["score"] == 4


def test_an_interrupted_write_is_rolled_back(course, monkeypatch):
    quiz("--no-shuffle", "--answers", RIGHT)
    connect = history._connect

    class Interrupting:
        """A connection that is interrupted after its INSERT ran but before the commit."""

        def __init__(self, path):
            self.db = connect(path)

        def execute(self, sql, params=()):
            self.db.execute(sql, params)
            raise KeyboardInterrupt

        def __enter__(self):
            return self.db.__enter__()

        def __exit__(self, *exc):
            return self.db.__exit__(*exc)

        def close(self):
            self.db.close()

    monkeypatch.setattr(history, "_connect", Interrupting)
    result = quiz("--no-shuffle", "--answers", "b;a;1;x")
    assert result.exit_code == 130
    assert "nothing was saved" in result.output
    monkeypatch.setattr(history, "_connect", connect)
    assert [a.score for a in saved()] == [4]


def test_an_unwritable_history_is_a_clear_error(course, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("COURSE_DATA_DIR", str(blocker / "data"))
    result = quiz("--no-shuffle", "--answers", RIGHT)
    assert result.exit_code == 2
    assert "Score" not in result.output  # said before the first question, so nothing is lost
    assert "quiz attempts cannot be saved to" in result.output
    assert "Set COURSE_DATA_DIR to a folder you can write to" in result.output


# --- colour and start-up ----------------------------------------------------------------------


def test_colour_on_a_terminal_unless_no_color(course, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = quiz("--no-shuffle", "--answers", RIGHT, color=True)
    assert "\x1b[32m\x1b[1mCorrect.\x1b[0m" in coloured.output
    plain_pipe = quiz("--no-shuffle", "--answers", RIGHT, color=False)
    assert "\x1b[" not in plain_pipe.output
    monkeypatch.setenv("NO_COLOR", "1")
    no_color = quiz("--no-shuffle", "--answers", RIGHT, color=True)
    assert "\x1b[" not in no_color.output
    assert "Correct." in no_color.output


def test_the_quiz_never_imports_torch(course):
    code = textwrap.dedent(
        f"""
        import sys
        from course.cli import main
        try:
            main(["quiz", "--no-shuffle", "--answers", {RIGHT!r}])
        except SystemExit as exit:
            assert exit.code == 0, exit.code
        assert "torch" not in sys.modules, "course quiz imported torch"
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ
    )
    assert done.returncode == 0, done.stderr
    assert "Score: 4/4" in done.stdout
