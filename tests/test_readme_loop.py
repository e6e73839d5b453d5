"""The README's learner loop, run as written: every command of its `<!-- loop: ... -->` blocks,
in a fresh copy of the repository and in a workspace made from the built wheel, with the
exercise files edited in place where a learner edits them.

Only the install lines are replaced, by their offline equivalent: a venv that reaches this
environment's packages (torch included) through a .pth file, and `pip install --no-deps` of
the clone (editable) or of the wheel. The test checks that the README's install lines are the
ones it replaces.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from courseware.content import load_module
from courseware.starters import normal
from tests.helpers import (
    REPO,
    build_wheel,
    fresh_clone,
    needs_posix_shell,
    offline_venv,
    pip_install,
)

pytestmark = pytest.mark.slow
BLOCK = re.compile(r"<!-- loop: (?P<name>[^>]+?) -->\n```bash\n(?P<body>.*?)```", re.S)
ANSWERS = "a\n1\n" * 80  # answers any question: unreadable answers are asked again
WATCH_SECONDS = 90


def readme_blocks() -> dict[str, list[str]]:
    """The commands of each loop block, comments dropped."""
    text = (REPO / "README.md").read_text()
    return {
        m["name"]: [line.split("  #")[0].strip() for line in m["body"].splitlines() if line]
        for m in BLOCK.finditer(text)
    }


@dataclass
class Shell:
    """Runs README lines as a learner's shell would, `cd` included."""

    cwd: Path
    env: dict[str, str]
    log: list[str] = field(default_factory=list)

    def run(self, line: str, stdin: str = "") -> subprocess.CompletedProcess:
        if line.startswith("cd "):
            self.cwd = self.cwd / line[3:].strip()
            assert self.cwd.is_dir(), line
            return subprocess.CompletedProcess(line, 0, "", "")
        result = subprocess.run(
            ["bash", "-c", line], cwd=self.cwd, env=self.env, input=stdin,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        self.log.append(f"$ {line}  -> {result.returncode}\n{result.stdout[-3000:]}")
        assert "Traceback" not in result.stdout + result.stderr, self.transcript()
        return result

    def transcript(self) -> str:
        return "\n".join(self.log)


def learner_env(bin_dir: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "VIRTUAL_ENV"))}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        VIRTUAL_ENV=str(bin_dir.parent),
        HOME=str(home),
        COURSE_DATA_DIR=str(home / "data"),
        NO_COLOR="1",
    )
    return env


def edit_in_place(workspace: Path, exercise_id: str) -> Path:
    """What a learner does: write the answer into the exercise file where it is."""
    ex = MODULE.exercise(exercise_id)
    path = workspace / "exercises" / ex.id / ex.file
    path.write_text(ex.solution.read_text())
    return path


MODULE = load_module(REPO)
TOTAL = sum(ex.points for ex in MODULE.exercises)


def expect(shell: Shell, line: str, workspace: Path) -> None:
    """Run one README line and check what a learner should see."""
    if line == "course watch":
        return watch(shell, workspace)
    if line.startswith("cd "):
        shell.run(line)
        return
    result = shell.run(line, stdin=ANSWERS if line == "course quiz" else "")
    out = result.stdout
    if line == "course init":
        assert (
            result.returncode == 0 and (shell.cwd / "lstm-course" / ".course-workspace").is_file()
        )
    elif line == "course grade":
        assert result.returncode == 1, shell.transcript()
        assert out.count("not attempted") >= 4 and f"Total: 0/{TOTAL}" in out, shell.transcript()
    elif line.startswith("course grade exercises/01"):
        assert result.returncode == 0 and "Total: 10/10" in out, shell.transcript()
    elif line == "course grade --hints":
        assert result.returncode == 1 and f"Total: 10/{TOTAL}" in out, shell.transcript()
    elif line == "course build":
        assert result.returncode == 0 and (workspace / "_site" / "index.html").is_file()
    elif line == "course quiz":
        assert result.returncode == 0 and "Score:" in out, shell.transcript()
    elif line == "course progress":
        assert result.returncode == 0 and "01_lstm_network" in out and "done" in out
    elif line.startswith("course reset 01_lstm_network"):
        ex = MODULE.exercise("01_lstm_network")
        path = workspace / "exercises" / ex.id / ex.file
        assert result.returncode == 0 and path.read_text() == normal(ex.starter.text)
        backup = Path(out.split("kept in ")[1].strip().rstrip("."))
        assert backup.read_text() == ex.solution.read_text() and workspace not in backup.parents
    else:
        raise AssertionError(f"the README shows `{line}`: teach this test what it should do")


def watch(shell: Shell, workspace: Path) -> None:
    """`course watch` until it has graded a save of exercise 2, then `q`."""
    proc = subprocess.Popen(
        ["bash", "-c", "course watch"], cwd=shell.cwd, env=shell.env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    lines = []
    try:
        lines.append(proc.stdout.readline())
        assert lines[-1].startswith("Watching"), lines
        lines.append(proc.stdout.readline())
        assert lines[-1].startswith("02_training_step  not attempted"), lines
        time.sleep(0.5)
        edit_in_place(workspace, "02_training_step")
        lines.append(proc.stdout.readline())
        assert lines[-1].strip() == "02_training_step  10/10", lines
        proc.stdin.write("q\n")
        proc.stdin.flush()
        assert proc.wait(timeout=WATCH_SECONDS) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    shell.log.append("$ course watch\n" + "".join(lines))


def run_loop(shell: Shell, prefix: str, workspace) -> Path:
    blocks = readme_blocks()
    for line in blocks[prefix]:
        expect(shell, line, workspace())
    edit_in_place(workspace(), "01_lstm_network")
    for line in blocks[f"{prefix} after editing"]:
        expect(shell, line, workspace())
    return workspace()


def finish_every_exercise(shell: Shell, workspace: Path) -> None:
    """Every reference pasted in place: full marks, and the other commands keep working."""
    for ex in MODULE.exercises:
        edit_in_place(workspace, ex.id)
    result = shell.run("course grade")
    full = f"Total: {TOTAL}/{TOTAL}"
    assert result.returncode == 0 and full in result.stdout, shell.transcript()
    assert shell.run("course progress").stdout.count("  done\n") == len(MODULE.exercises)
    for line in ("course validate", "course build"):
        assert shell.run(line).returncode == 0, shell.transcript()
    assert shell.run("course quiz", stdin=ANSWERS).returncode == 0, shell.transcript()


@needs_posix_shell
def test_the_readme_loop_in_a_fresh_clone(tmp_path):
    clone = fresh_clone(tmp_path / "clone")
    install = readme_blocks()["clone install"]
    assert install == [
        "python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 -e .",
        "source .venv/bin/activate",
    ]
    bin_dir = offline_venv(clone / ".venv")
    pip_install(bin_dir, "-e", str(clone))
    shell = Shell(clone, learner_env(bin_dir, tmp_path / "home"))
    workspace = run_loop(shell, "clone", lambda: clone)
    finish_every_exercise(shell, workspace)


@needs_posix_shell
def test_the_readme_loop_from_the_wheel(tmp_path):
    clone = fresh_clone(tmp_path / "clone")
    wheel = build_wheel(clone, tmp_path / "dist")
    install = readme_blocks()["package install"]
    assert (
        install[0] == f"python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 {wheel.name}"
    )
    home = tmp_path / "learner"
    home.mkdir()
    bin_dir = offline_venv(home / ".venv")
    pip_install(bin_dir, str(wheel))
    shell = Shell(home, learner_env(bin_dir, tmp_path / "home"))
    where = shell.run("python -c 'import courseware; print(courseware.__file__)'").stdout
    assert str(home / ".venv") in where, "the wheel's package must be the one that runs"
    outside = shell.run("course grade")
    assert outside.returncode == 2 and "Run `course init`" in outside.stdout + outside.stderr
    workspace = run_loop(shell, "package", lambda: shell.cwd)
    assert workspace == home / "lstm-course"
    finish_every_exercise(shell, workspace)
    assert not list((home / ".venv").glob("**/_site"))  # nothing written into the package


def test_every_readme_loop_line_is_known_to_this_test():
    known = {"course init", "cd lstm-course", "course watch", "course quiz", "course build",
             "course grade", "course grade --hints", "course progress"}  # fmt: skip
    for name, lines in readme_blocks().items():
        for line in lines:
            if "install" in name or line in known:
                continue
            assert line.startswith(("course grade exercises/01", "course reset 01")), line


def test_the_top_level_help_names_the_commands_of_the_package_loop():
    """A learner with the package only starts from `course --help`: its Learners' line names
    every command the README's package loop runs, `course init` first."""
    from click.testing import CliRunner

    from course.cli import main

    shown = " ".join(CliRunner().invoke(main, ["--help"]).output.split())
    learners = shown.split("Learners: ")[1].split("Instructors:")[0]
    loop = {line.split()[1] for line in readme_blocks()["package"] if line.startswith("course ")}
    assert learners.startswith("`course init`")
    assert loop and all(f"`course {command}" in learners for command in loop)
