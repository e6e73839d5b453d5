"""The engine knows no LSTM: a second, tiny module (tests/fixtures/linear_module: one exercise
about a linear layer, a quiz of two questions) is validated, verified, graded, built into a
site and quizzed by the same code as this module, through the same commands."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.build import build
from course.cli import main
from courseware.errors import CourseError
from tests.helpers import BATCH

FIXTURE = Path(__file__).parent / "fixtures" / "linear_module"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def copied(tmp_path_factory) -> Path:
    """A copy of the second module, with the engine's site templates (a module of the course
    ships its content and takes the look of the site from the engine). One copy for the file:
    pytest, which runs the checks in this process, keeps a check module by its name."""
    root = tmp_path_factory.mktemp("second") / "linear_module"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "site").mkdir()
    for name in [p.name for p in (REPO / "site").glob("*.html")] + ["static"]:
        copy = shutil.copytree if (REPO / "site" / name).is_dir() else shutil.copy
        copy(REPO / "site" / name, root / "site" / name)
    return root


@pytest.fixture
def module(copied, monkeypatch) -> Path:
    """The second module as the course folder every command works in."""
    monkeypatch.setenv("COURSE_ROOT", str(copied))
    monkeypatch.chdir(copied)
    return copied


def course(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def test_it_validates(module):
    result = course("validate")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: Linear layers, module 3 of 26")


def test_it_verifies_its_solution_starter_and_corpus(module):
    result = course("verify")
    assert result.exit_code == 0, result.output
    assert "tests/corpus/01_affine/mistakes/doubled/affine.py is caught" in result.output
    assert result.output.rstrip().endswith("All verified.")


@pytest.fixture
def learner_file(module) -> Iterator[Path]:
    """The module's exercise file, which a test writes as a learner would; put back after."""
    path = module / "exercises" / "01_affine" / "affine.py"
    starter = path.read_bytes()
    yield path
    path.write_bytes(starter)


def test_a_wrong_file_is_graded_with_a_generic_explainer(module, learner_file):
    case = module / "tests" / "corpus" / "01_affine" / "mistakes" / "doubled" / "affine.py"
    learner_file.write_text(case.read_text())
    result = course("grade", "--json", "out.json")
    assert result.exit_code != 0
    assert "equals the reference's times 2" in result.output
    report = json.loads((module / "out.json").read_text())
    assert report["score"] == 0
    learner_file.write_text((module / "solutions" / "01_affine" / "affine.py").read_text())
    assert "4/4" in course("grade").output


UNTRANSPOSED = "def affine(x, weight, bias):\n    return x @ weight + bias\n"
OWN_WORDS = (
    "MEANINGS = [\n"
    '    (r"mat1 and mat2 shapes cannot be multiplied \\((\\d+)x(\\d+) and (\\d+)x(\\d+)\\)",\n'
    '     "weight is ({2}, {3}), out_features by in_features: multiply x by weight.T."),\n'
    "]\n"
)


@pytest.fixture
def own_words(module) -> Iterator[Path]:
    """The module's grader/checks/meanings.py, which a test writes; removed after."""
    path = module / "grader" / "checks" / "meanings.py"
    yield path
    path.unlink(missing_ok=True)


def test_an_error_is_explained_in_the_modules_own_words(module, learner_file, own_words):
    learner_file.write_text(UNTRANSPOSED)
    generic = course("grade").output
    assert "raised RuntimeError at line 2" in generic
    assert "A matrix product (@, or nn.Linear) got (4, 3) and (5, 3)" in generic
    own_words.write_text(OWN_WORDS)
    assert course("validate").exit_code == 0
    own = course("grade").output
    assert "weight is (5, 3), out_features by in_features: multiply x by weight.T." in own
    assert "A matrix product" not in own


def test_broken_own_words_are_refused_naming_the_line(module, learner_file, own_words):
    learner_file.write_text(UNTRANSPOSED)
    own_words.write_text('MEANINGS = [\n    ("(unclosed", "never used"),\n]\n')
    for command in ("validate", "grade"):
        result = course(command)
        assert result.exit_code == 2, result.output
        assert "grader/checks/meanings.py:2: this pattern is not a regular expression" in (
            result.output
        )


def test_it_builds_into_a_site(module):
    result = course("build")
    assert result.exit_code == 0, result.output
    site = module / "_site"
    assert "Linear layers" in (site / "index.html").read_text()
    assert (site / "exercise-01_affine.html").is_file() and (site / "quiz-linear.html").is_file()
    assert "<figure" not in (site / "lesson.html").read_text()  # it declares no figures


def test_its_quiz_is_taken(module):
    result = CliRunner().invoke(main, ["quiz", "--no-shuffle", "--answers", "a;20"])
    assert result.exit_code == 0, result.output
    assert "2/2" in result.output or "2 of 2" in result.output, result.output
    wrong = CliRunner().invoke(main, ["quiz", "--no-shuffle", "--answers", "b;15"])
    assert "0/2" in wrong.output or "0 of 2" in wrong.output, wrong.output


def test_its_workspace_readme_names_its_first_exercise(module, tmp_path):
    result = course("init", str(tmp_path / "ws"))
    assert result.exit_code == 0, result.output
    readme = (tmp_path / "ws" / "README.md").read_text()
    assert "Open `exercises/01_affine/README.md`, then edit `affine.py` beside it." in readme
    assert "`course grade exercises/01_affine` just one" in readme
    assert "lstm" not in readme.lower()


CHART = {
    "command": "python scripts/weights.py",
    "description": "Two made-up series.",
    "chart": {
        "title": "Weight norm against epoch",
        "x_axis": "epoch",
        "y_axis": "weight norm (log scale)",
        "x_column": "epoch",
        "reading": "At epoch {x} the weight norm is",
    },
    "series": {"plain": [1.0, 0.5, 0.25], "decayed": [1.0, 0.1, 0.01]},
}
SVG = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><title>W</title></svg>\n'


def figured(copied: Path, tmp_path: Path, chart: dict) -> Path:
    """A copy of the second module whose site/figures/ declares a drawing and a chart, both
    placed by its lesson."""
    root = tmp_path / "figured"
    shutil.copytree(copied, root, ignore=shutil.ignore_patterns("_site", "out.json"))
    (root / "site" / "figures").mkdir()
    (root / "site" / "figures" / "affine_map.svg").write_text(SVG)
    (root / "site" / "figures" / "weight_norms.json").write_text(json.dumps(chart))
    lesson = root / "lesson" / "lesson.md"
    blocks = "\n```figure affine-map\nThe map.\n```\n\n```figure weight-norms\nNorms.\n```\n"
    lesson.write_text(lesson.read_text() + blocks)
    return root


def test_its_own_figures_are_found_in_its_site_folder(copied, tmp_path):
    build(tmp_path / "_site", root=figured(copied, tmp_path, CHART))
    lesson = (tmp_path / "_site" / "lesson.html").read_text()
    assert 'id="figure-affine-map"' in lesson and 'id="figure-weight-norms"' in lesson
    assert "Weight norm against epoch" in lesson and "At epoch 2 the weight norm is" in lesson
    assert "gradient" not in lesson.lower()


def test_a_chart_without_its_words_is_refused_naming_its_file(copied, tmp_path):
    broken = {**CHART, "chart": {"title": "Weight norm"}}
    with pytest.raises(CourseError) as refused:
        build(tmp_path / "_site", root=figured(copied, tmp_path, broken))
    message = str(refused.value)
    assert "site/figures/weight_norms.json" in message and "python scripts/weights.py" in message
    assert "x_axis" in message


def test_a_check_that_fails_of_itself_is_flagged_and_graded_again(tmp_path):
    """A check with a bug of its own (here a KeyError) costs the learner nothing silently: the
    instructor's CSV and summary name it as the grader's error, and the next run grades that
    learner again instead of keeping the broken grade."""
    root = tmp_path / "linear_module"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("__pycache__"))
    check = root / "grader" / "checks" / "check_01_affine.py"
    good = '    got, want = tensor(reply["value"]'
    check.write_text(check.read_text().replace(good, '    reply["no such key"]\n' + good))
    (tmp_path / "class" / "ada").mkdir(parents=True)
    solution = next((FIXTURE / "solutions").rglob("affine.py"))
    shutil.copy(solution, tmp_path / "class" / "ada" / "affine.py")
    table = tmp_path / "marks.csv"
    argv = [sys.executable, "-m", "course", "grade", "class", *BATCH, "--csv", str(table)]
    env = {**os.environ, "COURSE_ROOT": str(root)}

    def batch() -> subprocess.CompletedProcess:
        run = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert "Traceback" not in run.stdout + run.stderr, run.stdout + run.stderr
        return run

    first = batch()
    (row,) = csv.DictReader(table.read_text().splitlines())
    assert "grader error in a check, not the learner's: 01_affine" in row["flags"], row
    assert "learner(s) to look at" in first.stdout and "grader error" in first.stdout
    second = batch()
    assert "Graded 1 learner(s)" in second.stdout, second.stdout
