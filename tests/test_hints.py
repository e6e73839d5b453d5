"""Hints that follow the failure: course.yaml attaches hints to checks, and `course grade
--hints` shows the next unseen hint of an exercise's first failing check, then the rest of its
ladder, grading only what changed since the last grade. Through the CLI, in a `course init`
workspace, editing files where a learner edits them."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from course import state
from course.cli import main
from courseware.content import load_module
from courseware.errors import ContentError
from grader.report import NEXT_STEP
from tests.helpers import WATCH_LINE_SECONDS, content_copy, course_watch, read_until

SWAPPED_LOSS = """\
def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = criterion(targets, model(inputs))  # swapped: only CrossEntropyLoss minds
    loss.backward()
    optimizer.step()
    return loss.item()
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def write(module, workspace: Path, exercise_id: str, text: str) -> Path:
    ex = module.exercise(exercise_id)
    path = workspace / "exercises" / ex.id / ex.file
    path.write_text(text)
    return path


def shown_hints(output: str, exercise_id: str) -> list[int]:
    return [int(n) for n in re.findall(rf"Hint (\d+) of \d+ for {exercise_id}", output)]


def graded(output: str) -> list[str]:
    """The exercises the terminal report graded (its head lines)."""
    return re.findall(r"^(\d\d_\w+)  .*\(", output, flags=re.MULTILINE)


# --- course.yaml --------------------------------------------------------------------------


def test_a_hint_names_the_checks_it_helps_with(module):
    ex = module.exercise("02_training_step")
    assert len(ex.hint_checks) == len(ex.hints)
    own = [i for i, checks in enumerate(ex.hint_checks) if "test_loss_argument_order" in checks]
    assert own and "(prediction, target)" in ex.hints[own[0]]
    order = ex.hint_order("test_loss_argument_order")
    assert order[: len(own)] == tuple(own) and sorted(order) == list(range(len(ex.hints)))
    assert ex.hint_order(None) == ex.hint_order("test_imports") == tuple(range(len(ex.hints)))


def test_plain_hints_stay_valid_and_a_misspelled_check_is_reported_at_its_line(tmp_path):
    course = content_copy(tmp_path)
    manifest = course / "course.yaml"
    text = manifest.read_text()
    first = "checks: [test_batch_output, test_other_sizes]"
    text = text.replace(f"\n        {first}", "", 1)  # hint 1 of exercise 1: plain text again
    text = text.replace("checks: [test_loss_argument_order]", "checks: [test_loss_argument_ordr]")
    manifest.write_text(text)
    with pytest.raises(ContentError) as info:
        load_module(course)
    (problem,) = info.value.problems
    line = text[: text.index("test_loss_argument_ordr")].count("\n") + 1
    assert (problem.path, problem.line) == ("course.yaml", line)
    assert "'test_loss_argument_ordr' is not a check of check_02_training_step.py" in str(problem)
    assert "did you mean 'test_loss_argument_order'?" in str(problem)
    manifest.write_text(text.replace("test_loss_argument_ordr", "test_loss_argument_order"))
    assert load_module(course).exercise("01_lstm_network").hint_checks[0] == ()


def test_a_hint_with_an_unknown_key_is_a_content_error(tmp_path):
    course = content_copy(tmp_path)
    manifest = course / "course.yaml"
    manifest.write_text(manifest.read_text().replace("checks: [test_windows]", "check: [x]", 1))
    with pytest.raises(ContentError) as info:
        load_module(course)
    assert any("unknown key" in p.message and "'checks'" in p.message for p in info.value.problems)


# --- course grade --hints -------------------------------------------------------------------


def test_the_first_hint_is_about_the_first_failing_check_then_the_ladder(module, workspace):
    ex = module.exercise("02_training_step")
    write(module, workspace, ex.id, SWAPPED_LOSS)
    first = run("grade", "--hints")
    assert first.exit_code == 1, first.output
    assert graded(first.output) == [ex.id]  # the untouched ones need no grade for no hint
    own = [i + 1 for i, c in enumerate(ex.hint_checks) if "test_loss_argument_order" in c]
    assert shown_hints(first.output, ex.id) == own[:1]
    assert NEXT_STEP not in first.output and "--hints" not in first.output.split("Total:")[1]
    seen = list(own[:1])
    for _ in range(len(ex.hints) - 1):
        again = run("grade", "--hints")
        assert again.exit_code == 1 and graded(again.output) == []  # the file did not change
        assert re.search(rf"{ex.id} +7/10: unchanged since its last grade", again.output)
        seen += shown_hints(again.output, ex.id)
    rest = [n for n in range(1, len(ex.hints) + 1) if n not in own[:1]]
    assert seen == own[:1] + rest
    assert "You have seen all" in run("grade", "--hints").output


def test_hints_grade_only_what_changed_since_the_last_grade(module, workspace):
    write(
        module,
        workspace,
        "01_lstm_network",
        module.exercise("01_lstm_network").solution.read_text(),
    )
    write(module, workspace, "02_training_step", SWAPPED_LOSS)
    full = run("grade")
    assert full.exit_code == 1 and NEXT_STEP in full.output
    assert graded(full.output) == [ex.id for ex in module.exercises]
    write(module, workspace, "05_vanishing_gradients", "x = 1\n")
    result = run("grade", "--hints")
    assert result.exit_code == 1, result.output
    assert graded(result.output) == ["05_vanishing_gradients"]
    assert re.search(r"01_lstm_network +10/10, done: unchanged", result.output)
    assert shown_hints(result.output, "01_lstm_network") == []
    assert shown_hints(result.output, "05_vanishing_gradients") == [1]  # test_imports: the ladder
    assert shown_hints(result.output, "02_training_step") == [3]
    assert re.search(r"04_forecasting +not attempted", result.output)


def test_a_report_file_or_a_grade_without_its_failing_check_is_graded_again(
    module, workspace, tmp_path
):
    path = write(module, workspace, "02_training_step", SWAPPED_LOSS)
    assert run("grade", "exercises/02_training_step").exit_code == 1
    report = tmp_path / "out.json"
    result = run("grade", "exercises/02_training_step", "--hints", "--json", str(report))
    assert graded(result.output) == ["02_training_step"] and report.is_file()
    with sqlite3.connect(state.data_dir() / state.FILENAME) as db:  # as an older version wrote
        db.execute("UPDATE grades SET failing = NULL")
    result = run("grade", "exercises/02_training_step", "--hints")
    assert graded(result.output) == ["02_training_step"] and path.read_text() == SWAPPED_LOSS


def test_an_untouched_exercise_graded_alone_gets_its_first_hint(module, workspace):
    result = run("grade", "exercises/01_lstm_network", "--hints")
    assert result.exit_code == 1
    assert "not attempted" in result.output and shown_hints(result.output, "01_lstm_network") == [1]


def test_with_nothing_started_failing_the_next_exercise_to_start_gets_its_first_hint(
    module, workspace
):
    first, *rest = module.exercises
    write(module, workspace, first.id, first.solution.read_text())
    assert run("grade", f"exercises/{first.id}").exit_code == 0
    result = run("grade", "--hints")
    assert result.exit_code == 1 and graded(result.output) == []  # nothing changed since
    total = sum(ex.points for ex in module.exercises)
    assert f"Total: {first.points}/{total}" in result.output
    assert shown_hints(result.output, rest[0].id) == [1]
    assert all(shown_hints(result.output, ex.id) == [] for ex in (first, *rest[1:]))


def test_all_hints_show_the_whole_ladder_and_passing_work_gets_none(module, workspace):
    ex = module.exercise("02_training_step")
    write(module, workspace, ex.id, SWAPPED_LOSS)
    everything = run("grade", "--all-hints", "--exercise", ex.id)
    assert shown_hints(everything.output, ex.id) == list(range(1, len(ex.hints) + 1))
    write(module, workspace, ex.id, ex.solution.read_text())
    done = run("grade", "--hints", "--exercise", ex.id)
    assert done.exit_code == 0 and shown_hints(done.output, ex.id) == []
    assert "No hint to show" in done.output
    again = run("grade", "--hints", "--exercise", ex.id)
    assert again.exit_code == 0 and graded(again.output) == []


def test_hints_outside_a_workspace_grade_as_before(module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "mine" / "02_training_step"
    folder.mkdir(parents=True)
    (folder / "training.py").write_text(SWAPPED_LOSS)
    result = run("grade", "mine/02_training_step", "--hints")
    assert result.exit_code == 1 and graded(result.output) == ["02_training_step"]
    assert shown_hints(result.output, "02_training_step") == [3]


def test_watch_h_shows_the_hints_of_the_first_failing_check_first(module, workspace):
    ex = module.exercise("02_training_step")
    write(module, workspace, ex.id, SWAPPED_LOSS)
    proc = course_watch(workspace, ex.id)
    try:
        read_until(proc, f"{ex.id}  7/10")
        proc.stdin.write("h\nh\n")
        proc.stdin.flush()
        first, second = read_until(proc, "Hint ")[-1], read_until(proc, "Hint ")[-1]
        assert first.startswith(f"Hint 3 of {len(ex.hints)} for {ex.id}")
        assert second.startswith(f"Hint 1 of {len(ex.hints)} for {ex.id}")
        proc.stdin.write("q\n")
        proc.stdin.flush()
        assert proc.wait(timeout=WATCH_LINE_SECONDS) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
