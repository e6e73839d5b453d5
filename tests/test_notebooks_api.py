"""The notebook API in an IPython shell of this process (no Jupyter kernel): the %%exercise
magic and how it joins cells, check() and its plain-text view, hint() sharing the ladder with
`course grade --hints`, and the quiz with widgets and with typed answers, scoring and saving as
`course quiz` does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import solution

COURSE = [sys.executable, "-m", "course"]
EXERCISE = "01_lstm_network"


@pytest.fixture(scope="module")
def shell():
    """An IPython shell with the notebook API loaded; its grader process stopped after."""
    from IPython.core.interactiveshell import InteractiveShell

    import course.notebook as api

    ip = InteractiveShell.instance()
    api.load_ipython_extension(ip)
    yield ip
    api._stop()


def run_cell(shell, source: str, cell_id: str | None = None) -> None:
    shell.parent_header = {"metadata": {"cellId": cell_id}} if cell_id else {}
    assert shell.run_cell(source).success


def test_cells_of_one_exercise_join_in_order_and_a_cell_run_again_replaces_itself(
    module, shell, capsys
):
    """Cells told apart by the front end's cell id: a second cell joins the first, and when
    it is run again with other code, its new code replaces the old."""
    from course.notebook import check

    run_cell(shell, f"%%exercise {EXERCISE}\n{solution(module, EXERCISE)}", "a")  # cell a
    run_cell(shell, f"%%exercise {EXERCISE}\nraise RuntimeError('from cell b')", "b")
    capsys.readouterr()
    check(EXERCISE)
    joined = capsys.readouterr().out
    assert "Score: 0/10" in joined and "from cell b" in joined and "2 cells" in joined
    run_cell(shell, f"%%exercise {EXERCISE}\n!echo this line is not graded\nx = 1", "b")
    capsys.readouterr()
    check(EXERCISE)
    fixed = capsys.readouterr().out
    cell_a = f"%%exercise {EXERCISE}\n{solution(module, EXERCISE)}"
    at = len(cell_a.split("\n")) + 2  # cell b's second line, after the whole of cell a
    assert "Score: 10/10" in fixed and f"line {at} (`!echo this line is not graded`)" in fixed


def test_hint_walks_the_ladder_course_grade_hints_walks(module, shell, capsys, tmp_path):
    """hint() shows one hint more each time; `course grade --hints` goes on from there."""
    from course.notebook import hint

    ex = module.exercise(EXERCISE)
    hint(EXERCISE)
    hint(EXERCISE)
    shown = capsys.readouterr().out
    assert f"Hint 1 of {len(ex.hints)}" in shown and f"Hint 2 of {len(ex.hints)}" in shown
    grade = [*COURSE, "grade", f"exercises/{EXERCISE}", "--hints"]
    run = subprocess.run(grade, cwd=module.root, capture_output=True, text=True, timeout=300)
    assert f"Hint 3 of {len(ex.hints)}" in run.stdout, run.stdout + run.stderr


def test_outside_ipython_check_and_quiz_use_plain_text(tmp_path):
    """Without IPython: check() prints, with its score; quiz() asks with input()."""
    code = f"from course.notebook import check, quiz\ncheck('{EXERCISE}')\nquiz(count=2, seed=3)\n"
    run = subprocess.run([sys.executable, "-c", code], input="a\nb\n", cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "Nothing to check yet" in run.stdout and "Score: 0/10" in run.stdout, run.stderr
    assert "Question 2 of 2" in run.stdout and "Score: " in run.stdout.split("Question 2")[1]
    history = subprocess.run([*COURSE, "quiz", "--history"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)  # fmt: skip
    assert "/2" in history.stdout


def test_the_widget_quiz_scores_and_saves_as_the_terminal_quiz(module, capsys):
    """The same answers through the widgets and through `course quiz --answers` give the
    same score and each saves an attempt to the history."""
    from course import history, quiz
    from course.notebook_quiz import WidgetQuiz
    from courseware.quizbank import MultipleChoice, SingleChoice

    session = WidgetQuiz(*quiz.prepare(None, 7, None, 3))
    typed = []
    for n, item in enumerate(session.items):
        session.show()
        assert f"Question {n + 1} of 3" in session.question.value
        if isinstance(item.question, SingleChoice):
            session.fields[0].value = "b"
        elif isinstance(item.question, MultipleChoice):
            session.fields[0].value = session.fields[1].value = True
        else:
            session.fields[0].value = "12"
        typed.append(session.typed())
        session.answer()
        assert session.next.disabled is False
        session.advance()
    shown = capsys.readouterr().out
    widget = history.attempts(workspace=None)[-1]
    assert f"Score: {widget.score:g}/3" in shown
    quiz.run(None, seed=7, count=3, answers=";".join(typed))
    terminal = history.attempts(workspace=None)[-1]
    assert (terminal.score, [o.given for o in terminal.questions]) == (
        widget.score,
        [o.given for o in widget.questions],
    )


def test_an_answer_that_cannot_be_read_is_asked_again(module, capsys):
    from course import quiz
    from course.notebook_quiz import WidgetQuiz

    session = WidgetQuiz(*quiz.prepare(None, 7, None, 1))
    session.show()
    session.fields[0].value = None if hasattr(session.fields[0], "options") else ""
    session.answer()
    assert "Please" in capsys.readouterr().out and not session.outcomes
    assert session.next.disabled


def test_the_grading_service_answers_every_request_and_prints_nothing_else(module):
    """One JSON reply per request line, on stdout alone: a report, or an error that says
    what was wrong; a learner's print never reaches the replies."""
    import json

    requests = [
        {"exercise": EXERCISE, "source": "print('{\"score\": 99}')\n" + solution(module, EXERCISE)},
        {"exercise": "99_nothing", "source": "x = 1"},
        {"exercise": EXERCISE},
    ]
    lines = "".join(json.dumps(r) + "\n" for r in requests) + "not json\n"
    run = subprocess.run([sys.executable, "-m", "grader.service", str(module.root)], input=lines,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    graded, unknown, malformed, broken = map(json.loads, run.stdout.splitlines())
    assert (graded["score"], graded["max_score"]) == (10, 10)
    assert "no exercise '99_nothing'" in unknown["error"]
    assert "malformed request" in malformed["error"] and "malformed request" in broken["error"]
