"""Notebooks without a kernel: the generator (`course notebooks`), reading a notebook's
exercise cells, `course grade` on notebooks (a file, a folder, a batch with zips), hostile
notebooks, `course verify` of committed notebooks, and the figures the checks attach."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from courseware.exercise_cells import graded_source
from courseware.notebooks import (
    colab_url,
    in_notebook,
    notebook,
    render,
    requirement,
    stale,
    untouched,
)
from tests.helpers import REPO, needs_posix_shell, solution

COURSE = [sys.executable, "-m", "course"]


def exercise_cell(nb) -> dict:
    return next(c for c in nb["cells"] if "exercise" in c.get("metadata", {}).get("tags", []))


def with_code(module, exercise_id: str, code: str) -> dict:
    """The generated notebook of an exercise, its exercise cell holding `code`."""
    ex = module.exercise(exercise_id)
    nb = json.loads(render(module, ex))
    exercise_cell(nb)["source"] = f"%%exercise {ex.id}\n{code}"
    return nb


def save(path: Path, nb: dict) -> Path:
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_every_generated_notebook_is_valid_deterministic_and_not_attempted(module, tmp_path):
    """nbformat.validate passes; the same content writes the same bytes; the starter cell is
    tagged, starts with the magic, and grades as not attempted."""
    from courseware.exercise_cells import Staging
    from grader.grade import discover

    for ex in module.exercises:
        text = render(module, ex)
        assert text == render(module, ex)
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
        cell = exercise_cell(nb)
        assert cell["source"].splitlines()[0] == f"%%exercise {ex.id}"
        assert [c["source"] for c in nb.cells if c.cell_type == "code"][-2:] == [
            f'check("{ex.id}")',
            f'hint("{ex.id}")',
        ]
        path = save(tmp_path / f"{ex.id}.ipynb", json.loads(text))
        staging = Staging(module, tmp_path / f"staged-{ex.id}")
        (found,) = discover(module, path, staging).values()
        assert found.read_text().strip() == in_notebook(ex.starter.text, ex).strip()
        assert untouched(found.read_bytes(), ex)


def test_statement_and_starter_speak_of_cells_not_files_and_commands(module):
    """In a notebook there is no README beside a file and no terminal: the statement and the
    starter name the cell and check()/hint() instead, with the starter's lines unchanged."""
    for ex in module.exercises:
        nb = notebook(module, ex)
        statement, code = nb.cells[1].source, nb.cells[3].source
        for text in (statement, code):
            for said in ("course grade", "README.md", f"`{ex.file}`", "beside this file"):
                assert said not in text, (ex.id, said)
        assert f'check("{ex.id}")' in code
        assert code.count("\n") == ex.starter.text.strip().count("\n") + 1


def test_the_install_cell_pins_this_version_from_the_repository(module):
    from courseware import __version__

    ex = module.exercises[0]
    assert requirement(module) == f"lstm-course[notebook]=={__version__}"
    assert colab_url(module, ex) is None
    named = replace(module, repository="https://github.com/someone/lstm-course")
    pinned = f"lstm-course[notebook] @ git+https://github.com/someone/lstm-course@v{__version__}"
    assert requirement(named) == pinned
    assert pinned in notebook(named, ex).cells[0].source
    assert colab_url(named, ex) == (
        f"https://colab.research.google.com/github/someone/lstm-course/blob/v{__version__}/"
        f"notebooks/{ex.id}.ipynb"
    )
    gitlab = replace(module, repository="https://gitlab.com/someone/lstm-course")
    assert colab_url(gitlab, ex) is None


def test_course_notebooks_writes_each_and_keeps_a_learners_work(module, tmp_path):
    write = [*COURSE, "notebooks", "-o", "notebooks"]
    run = subprocess.run(write, cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    folder = tmp_path / "notebooks"
    assert sorted(p.name for p in folder.iterdir()) == [f"{e.id}.ipynb" for e in module.exercises]
    first = module.exercises[0]
    save(folder / f"{first.id}.ipynb", with_code(module, first.id, "print('my work')"))
    again = subprocess.run(write, cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 0 and f"Kept notebooks/{first.id}.ipynb" in again.stdout
    assert "my work" in (folder / f"{first.id}.ipynb").read_text()
    assert subprocess.run([*write, "--force"], cwd=tmp_path, capture_output=True).returncode == 0
    assert (folder / f"{first.id}.ipynb").read_text() == render(module, first)


def test_graded_source_keeps_line_numbers_and_notes_what_it_left_out():
    source, notes = graded_source(["%%exercise 01_x\n!pip install a\nx = 1\n%time y = 2", "z"])
    assert source.split("\n")[:5] == ["", "", "x = 1", "", ""]
    assert "line 2 (`!pip install a`)" in notes[0] and "line 4" in notes[1]
    assert "2 cells" in notes[-1]


def test_a_notebook_grades_as_its_python_file(module, zygote, tmp_path):
    """The same score and messages as the .py file; the magic removed (tag and comment)
    works too; outputs that fake a score are never read."""
    from grader.grade import grade

    ex = module.exercise("01_lstm_network")
    mistake = (REPO / "tests/corpus" / ex.id / "mistakes/first_step" / ex.file).read_text()
    (tmp_path / ex.file).write_text(mistake)
    nb = with_code(module, ex.id, mistake)
    nb["cells"].append(nbformat.v4.new_code_cell("check()"))
    nb["cells"][-1]["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": "Score: 10/10\n"},
        {"output_type": "display_data", "metadata": {}, "data": {"text/plain": "Score: 10/10"}},
    ]
    as_py = grade(module, tmp_path / ex.file, zygote=zygote).exercises[0]
    as_nb = grade(module, save(tmp_path / "work.ipynb", nb), zygote=zygote).exercises[0]
    assert as_nb.score == as_py.score < ex.points and as_nb.file.endswith("work.ipynb")
    assert [c.message for c in as_nb.checks] == [c.message for c in as_py.checks]
    cell = exercise_cell(nb)
    cell["source"] = f"# exercise: {ex.id}\n{solution(module, ex.id)}"
    tagged = grade(module, save(tmp_path / "tagged.ipynb", nb), zygote=zygote).exercises[0]
    assert tagged.complete


def test_a_huge_cell_is_graded_as_a_file_too_large(module, zygote, tmp_path):
    from grader.grade import grade

    nb = with_code(module, "01_lstm_network", "x = 1\n" * 300_000)
    (result,) = grade(module, save(tmp_path / "huge.ipynb", nb), zygote=zygote).exercises
    assert result.score == 0 and "larger than" in result.checks[0].message


def test_the_command_line_says_what_is_wrong_without_a_traceback(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{")
    run = subprocess.run([*COURSE, "grade", "broken.ipynb"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.startswith("Error: broken.ipynb is not a notebook") and "Traceback" not in (
        run.stdout + run.stderr
    )


def test_folders_of_notebooks_and_a_batch_of_them(module, zygote, tmp_path):
    """A folder of notebooks is graded like a folder of files (two copies of one exercise
    are refused, naming the notebooks); in a batch, a learner's notebooks in a folder, in a
    zip, or one notebook alone are graded."""
    from courseware.errors import CourseError
    from grader.grade import GradeOptions, grade

    one, two = "01_lstm_network", "02_training_step"
    work = tmp_path / "work"
    work.mkdir()
    save(work / "a.ipynb", with_code(module, one, solution(module, one)))
    save(work / "b.ipynb", with_code(module, two, solution(module, two)))
    report = grade(module, work, GradeOptions(exercises=(one, two)), zygote=zygote)
    assert [(e.id, e.complete) for e in report.exercises] == [(one, True), (two, True)]
    save(work / "c.ipynb", with_code(module, one, solution(module, one)))
    with pytest.raises(CourseError, match=r"a\.ipynb\n  .*c\.ipynb"):
        grade(module, work, zygote=zygote)

    class_ = tmp_path / "class"
    (class_ / "ada").mkdir(parents=True)
    save(class_ / "ada" / "a.ipynb", with_code(module, one, solution(module, one)))
    with zipfile.ZipFile(class_ / "bob.zip", "w") as zf:
        zf.writestr("nb/a.ipynb", json.dumps(with_code(module, one, solution(module, one))))
    save(class_ / "cyd.ipynb", with_code(module, one, "raise SystemExit"))
    run = subprocess.run(
        [*COURSE, "grade", "class", "--batch", "--exercise", one, "--unsafe-no-isolation",
         "--csv", "marks.csv", "--jobs", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    rows = list(csv.reader((tmp_path / "marks.csv").read_text().splitlines()))
    marks = {row[0]: row[1] for row in rows[1:]}  # learner id -> the exercise's score
    assert marks == {"ada": "10", "bob": "10", "cyd": "0"}, rows


def test_verify_checks_committed_notebooks_are_current(module, tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    first, *rest = module.exercises
    for ex in rest:
        (folder / f"{ex.id}.ipynb").write_text(render(module, ex))
    (folder / "99_old.ipynb").write_text("{}")
    assert stale(module, folder) == {
        f"{first.id}.ipynb": "missing",
        "99_old.ipynb": "belongs to no exercise of course.yaml",
    }
    (folder / f"{first.id}.ipynb").write_text(render(module, first).replace("TODO", "todo"))
    assert stale(module, folder)[f"{first.id}.ipynb"] == "differs from what the content gives"


def test_the_figures_of_a_failing_check_come_with_its_result_and_as_text(grade_source):
    """Exercise 5 compares curves: the failing check's result carries the learner's norms
    (from the runner) over the reference's, the JSON carries them, -v draws them."""
    from grader.figures import text_plot
    from grader.formats import as_json
    from grader.report import terminal
    from grader.results import GradeReport

    mistake = REPO / "tests/corpus/05_vanishing_gradients/mistakes/first_step_output/gradients.py"
    result = grade_source("05_vanishing_gradients", mistake.read_text())
    failed = [c for c in result.checks if c.state == "failed"]
    figure = failed[0].figures[0]
    assert figure.log_y and [s.label for s in figure.series] == ["reference", "yours"]
    reference, yours = (s.y for s in figure.series)
    assert len(reference) == len(yours) and yours[1:] != reference[1:]
    report = GradeReport("x", [result], ["cpu"], {})
    tests = [t for t in json.loads(json.dumps(as_json(report)))["tests"] if t.get("figures")]
    assert tests and tests[0]["figures"][0]["series"][1]["y"] == list(yours)
    drawn = text_plot(figure)
    assert "o reference" in drawn and "* yours" in drawn and drawn.count("\n") > 10
    assert drawn in terminal(report, verbose=True, colour=False).replace("\n      ", "\n")
    assert "o reference" not in terminal(report, colour=False)  # only with -v


def test_the_site_links_each_exercise_to_its_notebook_and_colab(module):
    """Each exercise page offers its notebook (the file beside it in the site) and, where
    course.yaml names a GitHub repository, an "Open in Colab" link: a link out, never a
    resource loaded from outside."""
    import re

    from course.build import render_site

    github = replace(module, repository="https://github.com/o/lstm")
    plain = render_site(module, with_solutions=False)
    named = render_site(github, with_solutions=False)
    for ex in module.exercises:
        url = f"files/notebooks/{ex.id}.ipynb"
        assert plain[url] == render(module, ex) and named[url] == render(github, ex)
        page = plain[f"exercise-{ex.id}.html"]
        assert f'href="{url}" download' in page and "colab" not in page.lower()
        linked = named[f"exercise-{ex.id}.html"]
        outside = re.findall(r'<(\w+)[^>]*\b(?:href|src)="(https?:[^"]*)"', linked)
        assert outside == [("a", colab_url(github, ex))]


def test_verify_reports_each_committed_notebook(module, tmp_path):
    from grader.verify import notebook_findings

    assert all(f.ok for f in notebook_findings(module))  # the repository's notebooks/
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for ex in module.exercises[1:]:
        (folder / f"{ex.id}.ipynb").write_text(render(module, ex))
    (folder / "99_old.ipynb").write_text("{}")
    findings = {f.subject: f for f in notebook_findings(replace(module, root=tmp_path))}
    first = module.exercises[0]
    assert not findings[f"notebooks/{first.id}.ipynb"].ok
    assert "course notebooks --force" in findings[f"notebooks/{first.id}.ipynb"].detail
    assert not findings["notebooks/99_old.ipynb"].ok
    assert all(f.ok for name, f in findings.items() if first.id not in name and "99" not in name)
    assert list(notebook_findings(replace(module, root=tmp_path / "none"))) == []


def readme_block(name: str, language: str) -> list[str]:
    """The lines of the README's `<!-- notebooks: NAME -->` block, comments dropped."""
    import re

    text = (REPO / "README.md").read_text()
    pattern = rf"<!-- notebooks: {name} -->\n```{language}\n(.*?)```"
    (body,) = re.findall(pattern, text, re.S)
    return [line.split("  #")[0].strip() for line in body.splitlines() if line.strip()]


@needs_posix_shell
def test_the_readme_notebook_commands_run_as_written(tmp_path):
    """The README's notebook section, run in a fresh clone: its shell commands, then its
    Python lines (outside a kernel: plain text, and the quiz on typed answers)."""
    import os

    from tests.helpers import fresh_clone

    clone = fresh_clone(tmp_path / "clone")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("COURSE_ROOT")
    codes = {}
    for line in readme_block("shell", "bash"):
        run = subprocess.run(["bash", "-c", line], cwd=clone, env=env, capture_output=True,
                             text=True, timeout=300)  # fmt: skip
        assert "Traceback" not in run.stdout + run.stderr, run.stderr
        codes[line] = (run.returncode, run.stdout)
    first, second = codes.values()
    assert first[0] == 0 and "up to date" in first[1]  # the committed notebooks are current
    assert second[0] == 1 and "not attempted" in second[1]
    python = "\n".join(readme_block("python", "python"))
    run = subprocess.run([sys.executable, "-c", python], cwd=clone, env=env, input="a\n1\n" * 100,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Score: 0/10" in run.stdout and "Hint 1 of" in run.stdout
    assert "Saved to the quiz history" in run.stdout
