"""The content model and `course validate`: the real module loads; every kind of bad content
gets its own message with file and line, all reported at once; `course --help` stays light."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import main
from courseware.content import approve_starters, edited_starters, load_module
from courseware.errors import ContentError
from grader.verify import starter_findings
from tests.helpers import REPO

CONTENT = [
    "course.yaml",
    "starters.lock",
    "exercises",
    "solutions",
    "grader/checks",
    "lesson",
    "quizzes",
]


@pytest.fixture
def course(tmp_path) -> Path:
    """A copy of the module's content that a test may break."""
    for name in CONTENT:
        source, target = REPO / name, tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return tmp_path


def edit(course: Path, old: str, new: str, file: str = "course.yaml") -> int:
    """Replace `old` by `new` in a file of the copy; return the 1-based line of the change."""
    path = course / file
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return text[: text.index(old)].count("\n") + 1


def problems(course: Path) -> list[str]:
    with pytest.raises(ContentError) as info:
        load_module(course)
    return [str(p) for p in info.value.problems]


def test_the_module_loads(module):
    assert (module.info.number, module.info.of) == (12, 26)
    assert len(module.objectives) >= 5 and module.prerequisites
    assert [e.id for e in module.exercises][:2] == ["01_lstm_network", "02_training_step"]
    for ex in module.exercises:
        assert ex.statement.is_file() and "TODO" in ex.starter.text
        assert ex.solution.is_file() and ex.check.is_file() and ex.hints
    assert module.lesson.is_file() and module.quizzes


def test_unknown_key_is_an_error_with_a_suggestion(course):
    line = edit(course, "    points: 10\n", "    pionts: 10\n")
    assert (
        f"course.yaml:{line}: unknown key 'exercises.0.pionts'; did you mean 'points'?"
        in problems(course)
    )


def test_missing_key(course):
    line = edit(course, "  title: Long Short-Term Memory networks\n", "")
    assert any(
        p.startswith("course.yaml:") and "missing required key 'module.title'" in p
        for p in problems(course)
    )
    assert line > 1


def test_wrong_type(course):
    line = edit(course, "    points: 10\n", "    points: ten\n")
    assert any(p.startswith(f"course.yaml:{line}: exercises.0.points:") for p in problems(course))


def test_yaml_syntax_error(course):
    line = edit(course, "  number: 12\n", "  number: [12\n")
    (problem,) = problems(course)
    assert problem.startswith("course.yaml:") and "YAML syntax error" in problem
    assert int(problem.split(":")[1]) >= line


def test_duplicate_key(course):
    line = edit(course, "  number: 12\n", "  number: 12\n  number: 13\n")
    assert f"course.yaml:{line + 1}: duplicate key 'number'" in problems(course)


def test_duplicate_exercise_id(course):
    edit(course, "  - id: 02_training_step\n", "  - id: 01_lstm_network\n")
    assert any("duplicate id 01_lstm_network" in p for p in problems(course))


def test_missing_files_and_an_approved_starter_without_todo(course, monkeypatch):
    (course / "solutions/01_lstm_network/lstm_network.py").unlink()
    (course / "exercises/02_training_step/training.py").write_text(
        "def train_step(*a):\n    pass\n"
    )
    approve_starters(course)
    found = problems(course)
    assert any(
        "01_lstm_network: solution solutions/01_lstm_network/lstm_network.py is missing" in p
        for p in found
    )
    (course / "solutions/01_lstm_network/lstm_network.py").write_text("# back\n")
    monkeypatch.setenv("COURSE_ROOT", str(course))
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 2
    assert "02_training_step: the approved starter training.py has no TODO" in result.output
    assert "starters.lock:" in result.output


def test_a_learner_editing_a_starter_is_not_a_content_error(course):
    (course / "exercises/01_lstm_network/lstm_network.py").write_text("# my work, no todo\n")
    (course / "exercises/02_training_step/training.py").unlink()
    module = load_module(course)
    assert [ex.id for ex in edited_starters(module)] == ["01_lstm_network", "02_training_step"]


def test_a_hand_edited_lock_is_a_content_error(course):
    line = edit(course, "raise NotImplementedError", "pass  #", file="starters.lock")
    assert any(
        p.startswith("starters.lock:") and "does not match its sha256" in p
        for p in problems(course)
    )
    assert line > 1


def test_points_must_match_the_checks(course):
    edit(course, "    points: 10\n", "    points: 12\n")
    assert any(
        "gives 12 points but the checks in grader/checks/check_01_lstm_network.py add up to 10" in p
        for p in problems(course)
    )


def test_unknown_objective(course):
    line = edit(course, "    objectives: [training]\n", "    objectives: [trainning]\n")
    assert any(
        p.startswith(f"course.yaml:{line}: unknown objective 'trainning'") for p in problems(course)
    )


def test_every_problem_is_reported_at_once(course):
    edit(course, "    points: 10\n", "    pionts: 10\n")
    edit(course, "lesson: lesson/lesson.md", "lesson: lesson/nowhere.md")
    (course / "lesson/lesson.md").unlink()
    edit(course, "  level: Intermediate\n", "  level: Expert\n")
    assert len(problems(course)) >= 3


def test_missing_lesson_and_quiz_bank(course):
    shutil.rmtree(course / "quizzes")
    (course / "lesson/lesson.md").unlink()
    found = problems(course)
    assert any("lesson file lesson/lesson.md not found" in p for p in found)
    assert any("quiz bank quizzes/" in p and "not found" in p for p in found)


# ------------------------------------------------------------------ the command line


def test_validate_passes_on_the_repository():
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: Long Short-Term Memory networks, module 12 of 26")


def test_validate_fails_clearly_on_broken_content(course, monkeypatch):
    edit(course, "    points: 10\n", "    pionts: 10\n")
    monkeypatch.setenv("COURSE_ROOT", str(course))
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 2
    assert "Error: the course content has" in result.output and "course.yaml:" in result.output
    assert "Traceback" not in result.output


def test_a_learner_editing_starters_in_a_clone_keeps_every_command_working(course, monkeypatch):
    """The README's loop in a clone: files edited in place, TODOs gone. Content commands
    check the approved starters, never the learner's files."""
    monkeypatch.setenv("COURSE_ROOT", str(course))
    monkeypatch.chdir(course)
    exercises = load_module(course).exercises
    for ex in exercises:
        (course / "exercises" / ex.id / ex.file).write_text(ex.solution.read_text())
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert f"{len(exercises)} exercise file(s) edited" in result.output
    assert "your work" in result.output
    findings = list(starter_findings(load_module(course)))
    assert [f.ok for f in findings] == [False] * len(exercises)
    assert "--approve-starters" in findings[0].detail


def test_approve_starters_rewrites_the_lock(course, monkeypatch):
    monkeypatch.setenv("COURSE_ROOT", str(course))
    monkeypatch.setattr("grader.verify.verify", lambda *a: pytest.fail("approving only"))
    path = course / "exercises" / "02_training_step" / "training.py"
    path.write_text(path.read_text() + "# TODO: one more thing\n")
    result = CliRunner().invoke(main, ["verify", "--approve-starters"])
    assert result.exit_code == 0, result.output
    assert f"Approved {len(load_module(course).exercises)} starters" in result.output
    module = load_module(course)
    assert module.exercise("02_training_step").starter.text.endswith("# TODO: one more thing\n")
    assert all(f.ok for f in starter_findings(module))


@pytest.mark.parametrize(("ok", "code", "verdict"), [(True, 0, "All verified"),
                                                    (False, 1, "1 claim(s) failed")])  # fmt: skip
def test_verify_reports_each_claim_and_what_it_could_not_check(monkeypatch, ok, code, verdict):
    from grader.verify import Finding

    seen = {}

    def fake(module, only):
        seen["only"] = only
        yield Finding("solutions/06_x", "scores full marks", ok, "why it failed")
        yield Finding("case a", "is caught", False, skipped="not checked: it needs CUDA")

    monkeypatch.setattr("grader.verify.verify", fake)
    result = CliRunner().invoke(main, ["verify", "--exercise", "06_x"])
    assert result.exit_code == code and seen["only"] == ("06_x",)
    assert "– case a is caught\n    not checked: it needs CUDA" in result.output
    assert f"{verdict} (1 not checked on this machine)." in result.output
    assert ("why it failed" in result.output) is not ok


def test_no_course_root_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 2 and "has no course.yaml" in result.output


def test_help_imports_neither_torch_nor_pytest():
    code = (
        "import sys\n"
        "from course.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'pytest', 'pydantic', 'yaml') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage: " in out.stdout and "grade" in out.stdout and "validate" in out.stdout
    assert "Instructors: `course grade SUBMISSIONS --batch`" in " ".join(out.stdout.split())
    assert out.stdout.strip().endswith("[]")


def test_version():
    from course import __version__

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_the_repository_holds_the_approved_starters(module):
    """An author who changes a starter must approve it (course verify --approve-starters)."""
    drifted = [f.subject for f in starter_findings(module) if not f.ok]
    assert not drifted, f"{drifted} differ from starters.lock: run course verify --approve-starters"


def test_the_readme_exercise_table_follows_course_yaml(module):
    text = (REPO / "README.md").read_text()
    table = text[text.index("## The exercises") : text.index("## Commands")]
    rows = re.findall(r"^\| `(\d\d_[a-z0-9_]+)` \| .* \| (\d+) \|$", table, re.M)
    assert rows == [(ex.id, str(ex.points)) for ex in module.exercises]
