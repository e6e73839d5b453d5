"""One resource group per runner: its whole tree of processes is capped in memory, processes
and CPU, killed as one, and a call's time counts the learner's own CPU, so that a classmate's
spinning children cost an honest learner nothing. Where no cgroup is writable, the report
says so (tests/test_isolation_levels.py)."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.confined import cgroups
from grader.confined.sandbox import Limits
from grader.zygote import RunnerSpec, RunnerTimeout
from tests.helpers import REPO, failed_messages, left_tagged, solution, tag_code

EX1 = "01_lstm_network"


def _groups_here() -> bool:
    base, _ = cgroups.make_base()
    if base is None:
        return False
    complete = base.new_group("probe", 1 << 30, 8, 1.0).complete()
    base.remove()
    return complete


needs_groups = pytest.mark.skipif(
    not _groups_here(),
    reason="no writable cgroup hierarchy with memory, pids and CPU here (needs root, or a "
    "cgroup v2 with those controllers delegated)",
)


def _load(source: str) -> dict:
    return {"op": "load", "source": textwrap.dedent(source), "filename": "f.py", "module": "f"}


def test_hierarchies_are_found_as_mounted(tmp_path):
    """v1 controllers beside a v2 hierarchy (this machine), a container's v2 alone (its
    root shown as /), and a v1 mount of a subtree, each with this process's group in it."""
    cases = {
        "hybrid": (
            "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
            "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
            "36 31 0:33 / /sys/fs/cgroup/net_cls rw - cgroup cgroup rw,net_cls\n"
            "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
            "4:memory:/jobs/a b\n2:cpu,cpuacct:/\n3:net_cls:/\n0::/\n",
            [
                (1, "/sys/fs/cgroup/memory/jobs/a b", {"memory"}),
                (1, "/sys/fs/cgroup/cpu,cpuacct", {"cpu", "cpuacct"}),
                (2, "/sys/fs/cgroup/unified", set()),
            ],
        ),
        "container": (
            "700 600 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
            "0::/\n",
            [(2, "/sys/fs/cgroup", set())],
        ),
        "subtree": (
            "35 31 0:32 /jobs /mnt/mem rw - cgroup cgroup rw,memory\n"
            "36 31 0:33 /other /mnt/pids rw - cgroup cgroup rw,pids\n",
            "4:memory:/jobs/a\n5:pids:/jobs/a\n",
            [(1, "/mnt/mem/a", {"memory"})],  # the pids mount does not show our group
        ),
    }
    for name, (mountinfo, cgroup, expected) in cases.items():
        (tmp_path / "mountinfo").write_text(mountinfo.replace("a b", "a\\040b"))
        (tmp_path / "cgroup").write_text(cgroup)
        found = cgroups.hierarchies(str(tmp_path / "mountinfo"), str(tmp_path / "cgroup"))
        seen = [(h.version, h.folder, set(h.controllers)) for h in found]
        assert seen == expected, name


@needs_groups
def test_a_tree_over_the_memory_cap_is_stopped_as_one(grade_source, module):
    """Four children of 350 MiB each: every one fits the per-process cap, together they
    exceed the group's 1 GiB. The kernel stops the group, the grader kills all of it."""
    tag = "crt-memory"
    source = tag_code(tag) + textwrap.dedent(
        """
        import os, time
        for _ in range(4):
            if os.fork() == 0:
                hoard = b"1" * (350 << 20)
                time.sleep(120)
                os._exit(0)
        time.sleep(120)
        """
    )
    result = grade_source(EX1, source + solution(module, EX1), memory_bytes=1 << 30)
    assert result.score == 0
    assert "its processes together used more memory than the 1024 MiB" in failed_messages(result)
    assert left_tagged(tag) == []


@needs_groups
def test_a_fork_bomb_stops_at_the_process_limit(grade_source, module):
    """pids.max counts the whole tree, threads included, whoever the runner runs as (the
    per-user rlimit behind it counts all of an ordinary user's processes)."""
    tag = "crt-forkbomb"
    source = tag_code(tag) + textwrap.dedent(
        """
        import os, time
        children = 0
        try:
            for _ in range(200):
                if os.fork() == 0:
                    time.sleep(120)
                    os._exit(0)
                children += 1
        except OSError as exc:
            raise RuntimeError(f"forked {children} children, then {exc.strerror}") from None
        """
    )
    result = grade_source(EX1, source + solution(module, EX1), processes=16)
    messages = failed_messages(result)
    assert "then Resource temporarily unavailable" in messages, messages
    forked = int(re.search(r"forked (\d+) children", messages).group(1))
    assert 0 < forked < 16
    assert left_tagged(tag) == []


@needs_groups
def test_a_calls_time_counts_the_learners_own_cpu(zygote, monkeypatch):
    """Two seconds asleep in a call of one second: no CPU used, so no timeout (the wall
    clock would punish a learner for the machine's load); spinning is stopped after one
    second of CPU time; waiting forever is stopped by the wall clock's backstop."""
    runner = zygote.spawn(RunnerSpec(EX1, (), Limits()))
    try:
        runner.hello(30)
        assert runner.request(_load("import time\ntime.sleep(2)\n"), 1.0) == {
            "ok": True,
            "names": ["time"],
        }
        assert runner.spent < 0.5
        with pytest.raises(RunnerTimeout) as spun:
            runner.request(_load("while True:\n    pass\n"), 1.0)
        assert spun.value.clock == "cpu" and spun.value.seconds == 1.0
    finally:
        runner.close()
    monkeypatch.setattr("grader.zygote.WALL_EXTRA", 0.0)  # the backstop: 3 x 0.5 s
    runner = zygote.spawn(RunnerSpec(EX1, (), Limits()))
    try:
        runner.hello(30)
        with pytest.raises(RunnerTimeout) as waited:
            runner.request(_load("import time\ntime.sleep(600)\n"), 0.5)
        assert waited.value.clock == "backstop" and waited.value.seconds == 1.5
    finally:
        runner.close()


@needs_groups
def test_the_group_is_removed_with_its_runner(zygote):
    runner = zygote.spawn(RunnerSpec(EX1, (), Limits()))
    try:
        assert runner.hello(30)["resource_group"].startswith("cgroup")
        folders = runner.group.folders()
        assert all(os.path.isdir(f) for f in folders)
        child = "import os, time\nif os.fork() == 0:\n    time.sleep(120)\n"
        runner.request(_load(child), 5)
    finally:
        runner.close()
    assert runner.group.remove(seconds=5)  # the supervisor removed it already, or does now
    assert not any(os.path.exists(f) for f in folders)


# 60 children that spin, started by one child so that the import itself returns at once.
SPINNING = """
import os
if os.fork() == 0:
    for _ in range(59):
        if os.fork() == 0:
            break
    while True:
        pass
"""
# Honest, if slow: it waits (the spinners are up by then), then computes for about 1 s of CPU.
SLOW_START = "import time\ntime.sleep(3)\nTABLE = sum(i * i for i in range(10_000_000))\n"


@needs_groups
def test_an_honest_learner_keeps_full_marks_beside_one_spinning_60_children(tmp_path):
    """Two learners graded side by side: one starts 60 children that spin, the other is
    honest but slow to import. Each runner's group gets an equal share of the CPU and a
    quota of one CPU, and a call counts only its own group's CPU time: the honest learner
    keeps full marks (without groups, here, its import timed out: 10/20)."""
    tag = "crt-spinner"
    subs = tmp_path / "subs"
    for name, prelude in (("honest", SLOW_START), ("spinner", tag_code(tag) + SPINNING)):
        (subs / name).mkdir(parents=True)
        for rel in ("01_lstm_network/lstm_network.py", "02_training_step/training.py"):
            text = prelude + (REPO / "solutions" / rel).read_text()
            (subs / name / Path(rel).name).write_text(text)
    table = tmp_path / "class.csv"
    argv = [sys.executable, "-m", "course", "grade", str(subs), "--batch", "--jobs", "2"]
    argv += ["--csv", str(table), "--timeout", "5", "--exercise", EX1]
    argv += ["--exercise", "02_training_step", "--gradebook", str(tmp_path / "book.sqlite")]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert run.returncode in (0, 1), run.stdout + run.stderr
    with open(table) as f:
        rows = {row["learner"]: row for row in csv.DictReader(f)}
    assert rows["honest"]["total"] == rows["honest"]["max_score"] == "20", run.stdout
    assert left_tagged(tag) == []
