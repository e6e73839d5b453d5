"""Where a level cannot be had (no writable cgroup, no libseccomp; forced here with
COURSE_SANDBOX_WITHOUT), the report names it missing, a learner still grades their own code,
and batch grading refuses unless --unsafe-no-isolation."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO

SOLUTION = REPO / "solutions/01_lstm_network/lstm_network.py"
LEVELS = {
    "cgroups": "a resource group for its whole tree (cgroup)",
    "seccomp": "a system-call filter (seccomp)",
}
WORDS = {"cgroups": "resource group", "seccomp": "syscall filter"}  # in the total line's list


def course(*args: str, without: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COURSE_SANDBOX_WITHOUT": without}
    argv = [sys.executable, "-m", "course", "grade", *args, "--exercise", "01_lstm_network"]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("level", LEVELS)
def test_a_missing_level_is_reported_and_batch_refuses(tmp_path, level):
    missing = LEVELS[level]
    report = tmp_path / "report.json"
    single = course(str(SOLUTION), "--json", str(report), without=level)
    assert single.returncode == 0, single.stdout + single.stderr
    line = " ".join(single.stdout.split())
    assert f"NOT confined by: {missing}" in line
    in_force = line.split("sandbox: ")[1].split("; NOT")[0]
    assert WORDS[level] not in in_force
    assert all(word in in_force for other, word in WORDS.items() if other != level)
    assert missing in json.loads(report.read_text())["isolation"]["missing"]

    (tmp_path / "subs/ada").mkdir(parents=True)
    (tmp_path / "subs/ada/lstm_network.py").write_text(SOLUTION.read_text())
    batch = [str(tmp_path / "subs"), "--batch", "--gradebook", str(tmp_path / "book.sqlite")]
    refused = course(*batch, without=level)
    assert refused.returncode == 2
    assert f"here a runner lacks: {missing}." in " ".join(refused.stderr.split())
    graded = course(*batch, "--unsafe-no-isolation", without=level)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "WARNING: 1 learner(s) graded with --unsafe-no-isolation" in graded.stdout


def test_an_unknown_level_is_named(tmp_path):
    run = course(str(SOLUTION), without="cgroups,selinux")
    assert run.returncode == 2
    assert "COURSE_SANDBOX_WITHOUT=cgroups,selinux: unknown level 'selinux'" in run.stderr
    assert "Traceback" not in run.stderr
