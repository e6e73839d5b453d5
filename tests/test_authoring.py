"""Adding an exercise: `course new exercise` scaffolds every part, and `course validate`
names each part still missing or astray, in a copy of the authors' repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import main
from courseware.content import approve_starters, load_module
from tests.helpers import REPO, fresh_clone


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    root = fresh_clone(tmp_path / "repo")
    monkeypatch.setenv("COURSE_ROOT", str(root))
    monkeypatch.chdir(root)
    return root


def validate() -> list[str]:
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code in (0, 2) and "Traceback" not in result.output
    return result.output.splitlines()


def new(*args: str):
    return CliRunner().invoke(main, ["new", "exercise", *args])


def test_the_repository_has_every_part_of_every_exercise(repo):
    assert validate()[0].startswith("OK:")


def test_new_exercise_scaffolds_every_part_and_validate_lists_what_is_left(repo):
    new_id = f"{len(load_module(repo).exercises) + 1:02d}_padding"
    result = new("padding", "--objective", "shapes", "--points", "6")
    assert result.exit_code == 0, result.output
    for rel in (f"exercises/{new_id}/README.md", f"exercises/{new_id}/padding.py",
                f"solutions/{new_id}/padding.py", f"grader/checks/check_{new_id}.py",
                "grader/confined/probes/padding.py"):  # fmt: skip
        assert (repo / rel).is_file(), rel
    assert f"  - id: {new_id}\n" in (repo / "course.yaml").read_text()
    problems = validate()  # every part still missing is listed at once
    no_starter = f"{new_id}: starters.lock has no approved starter padding.py; run `course verify"
    assert any(no_starter in p and p.endswith("to write the lock.") for p in problems)
    assert any(f"{new_id}: this hint is still the template's TODO" in p for p in problems)
    assert any(
        p.startswith(f"tests/corpus/{new_id}/mistakes:1: exercise {new_id} has 0 mistake case")
        for p in problems
    )
    assert any("has 0 correct case(s) here and needs at least 2" in p for p in problems)
    approve_starters(repo)
    assert not any("no approved starter" in p for p in validate())


def test_what_verify_asks_authors_to_run_is_in_the_guide_and_the_scaffolds_steps(repo):
    """An author who follows CONTRIBUTING.md or `course new`'s steps is never surprised by a
    claim of `course verify` that asks for a command neither of them named."""
    from grader.verify import DRIFT, NOTEBOOK_DRIFT

    asked = re.findall(r"`(course \w+ --[\w-]+)`", DRIFT + NOTEBOOK_DRIFT)
    steps = new("padding", "--objective", "shapes").output
    guide = (REPO / "CONTRIBUTING.md").read_text()
    assert len(asked) == 2 and all(command in steps and command in guide for command in asked)


def test_an_exercise_without_a_probe_fails_validate(repo):
    (repo / "grader" / "confined" / "probes" / "gradients.py").unlink()
    problems = validate()
    assert (
        "grader/confined/probes/gradients.py:1: exercise 05_vanishing_gradients has no probe"
        in (" ".join(problems))
    )


def test_stray_files_are_named(repo):
    (repo / "exercises" / "01_lstm_network" / "notes.txt").write_text("mine")
    (repo / "solutions" / "07_ghost").mkdir()
    (repo / "grader" / "checks" / "check_old.py").write_text("")
    problems = " ".join(validate())
    assert "exercises/01_lstm_network/notes.txt:1: a stray file in exercise 01_lstm_network" in (
        problems
    )
    assert "solutions/07_ghost:1: no exercise in course.yaml has this id" in problems
    assert "grader/checks/check_old.py:1: a check module of no exercise" in problems


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lstm_network", "--objective", "shapes"], "exists already"),
        (["Bad-Slug", "--objective", "shapes"], "is not a slug"),
        (["padding", "--objective", "nope"], "unknown objective nope"),
    ],
)
def test_new_exercise_refuses_bad_requests(repo, args, message):
    result = new(*args)
    assert result.exit_code == 2 and message in result.output
    assert not list((repo / "exercises").glob("*_padding"))


def test_new_exercise_outside_the_authors_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    root = tmp_path / "lstm-course"
    monkeypatch.chdir(root)
    monkeypatch.setenv("COURSE_ROOT", str(fresh_clone(tmp_path / "shipped")))
    (tmp_path / "shipped" / "tests" / "corpus").rename(tmp_path / "corpus-elsewhere")
    result = new("padding", "--objective", "shapes")
    assert result.exit_code == 2 and "not the authors' repository" in result.output


def test_verify_says_a_starter_not_yet_in_the_lock_needs_approving_not_that_it_drifted():
    from dataclasses import replace

    from courseware.starters import Starter
    from grader.verify import starter_findings

    module = load_module(REPO)
    first = module.exercises[0]
    unlocked = replace(first, starter=Starter(first.file, ""))
    module = replace(module, exercises=(unlocked, *module.exercises[1:]))
    finding = next(starter_findings(module))
    assert not finding.ok, finding
    assert f"--approve-starters --exercise {first.id}" in finding.detail
    assert "differs from starters.lock" not in finding.detail
