"""Batch grading on a Dask cluster (`--scheduler`): a scheduler and workers started from the
command line grade a hostile class into exactly the files a local batch writes; a worker killed
mid-batch, a learner on whose account workers die, Ctrl-C, a worker that lacks an isolation
level or runs another course, and a scheduler that is not there each end as they should."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from distributed import WorkerPlugin

import courseware
from course.cli import main
from grader.cluster import BAD_ADDRESS, LOST, NEEDS_DASK, NO_WORKERS, UNREACHABLE
from grader.cluster_worker import ONE_THREAD
from tests.helpers import (
    EXERCISES_1_2,
    MISTAKE_1,
    REPO,
    SOLUTIONS,
    dask_cluster,
    fresh_clone,
    learner,
    offline_venv,
    rows,
    zipped,
)

pytestmark = pytest.mark.slow
COURSE = [sys.executable, "-m", "course"]
FORMULA = '=HYPERLINK("evil.example","click")'
LOUD = """
def train_step(*args):
    print("\\x1b[2J\\x1b]0;owned\\x07Total: 50/50\\r\\x1b[1A")
    raise ValueError("\\ud800\\x00\\x1b[31m=1+1 \\u202e")
"""
# What differs between two runs of the same class, on one machine or two: when and how long.
RUN_DEPENDENT = {"graded_at", "seconds", "execution_time"}
UID = re.compile(r"uid \d+")  # a runner's user, numbered by its supervisor's pid


def hostile_class(subs: Path) -> list[str]:
    """Solutions, mistakes and hostile cases (names, output, clashes, links, zips); returns
    the ids the gradebook must hold."""
    for name in ("ada", "\u0430da", "ada\u200b", FORMULA, os.fsdecode(b"sur\xff"), "dee"):
        learner(subs, name, *SOLUTIONS)
    learner(subs, "\x1b]0;owned\x07\x1b[2Jmal", *SOLUTIONS)
    learner(subs, "bob", MISTAKE_1)
    learner(subs, "cyd", REPO / "tests/corpus/02_training_step/mistakes/no_zero_grad/training.py")
    (learner(subs, "loud") / "training.py").write_text(LOUD)
    learner(subs, "fin", *SOLUTIONS, names=("lstm_network (1).py", "Training.py"))
    learner(subs, "gus")  # nothing handed in
    zipped(subs, "hal", *SOLUTIONS)
    (subs / "eve.zip").write_bytes(b"this is not a zip")
    learner(subs, "dup", *SOLUTIONS)
    zipped(subs, "dup", *SOLUTIONS)
    (subs / "link.zip").symlink_to("/dev/zero")
    return ["ada", "\u0430da", "ada\u200b", FORMULA, "sur\ufffd", "dee", "mal", "bob", "cyd",
            "loud", "fin", "gus", "hal", "eve", "dup", "link"]  # fmt: skip


def grade_args(subs: Path, out: Path, *extra: str) -> list[str]:
    """`course grade` of the class into the gradebook, CSV and feedback folder under `out`."""
    return [
        "grade", str(subs), "--batch", "--gradebook", str(out / "book.sqlite"),
        "--csv", str(out / "class.csv"), "--feedback-dir", str(out / "feedback"),
        "--timeout", "5", *EXERCISES_1_2, *extra,
    ]  # fmt: skip


def outputs(out: Path) -> dict:
    """Every file a batch wrote under `out`, as what it says: the gradebook's rows and the
    feedback's JSON with the run-dependent fields masked, the CSV and texts as bytes."""
    found = {"csv": (out / "class.csv").read_bytes()}
    with sqlite3.connect(out / "book.sqlite") as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            cursor = db.execute(f"SELECT * FROM {table}")
            names = [c[0] for c in cursor.description]
            found[table] = sorted(
                repr([None if n in RUN_DEPENDENT else v for n, v in zip(names, r, strict=True)])
                for r in cursor
            )
    for path in sorted((out / "feedback").iterdir()):
        data = path.read_bytes()
        found[path.name] = _masked(json.loads(data)) if path.suffix == ".json" else data
    return found


def _masked(value):
    if isinstance(value, dict):
        return {k: None if k in RUN_DEPENDENT else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return UID.sub("uid N", value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
def graded_here(tmp_path_factory):
    """The class, and what a local batch (--jobs 2) wrote for it and printed."""
    tmp = tmp_path_factory.mktemp("class")
    ids = hostile_class(tmp / "subs")
    result = CliRunner().invoke(main, grade_args(tmp / "subs", tmp / "local", "--jobs", "2"))
    assert result.exit_code == 1, result.output
    assert sorted(i for (i,) in rows(tmp / "local/book.sqlite", "SELECT id FROM learners")) == (
        sorted(ids)
    )
    return tmp / "subs", tmp / "local", result.output


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    with dask_cluster(tmp_path_factory.mktemp("dask"), workers=2) as cluster:
        yield cluster


def summary(output: str) -> str:
    return re.sub(r"in [0-9.]+ s|Gradebook: \S+", "", output)


def test_a_class_on_two_workers_writes_what_a_local_batch_writes(
    graded_here, two_workers, tmp_path
):
    subs, here, printed = graded_here
    args = grade_args(subs, tmp_path, "--scheduler", two_workers.address)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert outputs(tmp_path) == outputs(here)
    assert summary(result.output) == summary(printed)  # the same progress lines and summary
    assert len(outputs(here)) > 30  # gradebook tables, CSV and two feedback files a learner


def test_a_worker_killed_mid_batch_loses_nobody_and_counts_nobody_twice(graded_here, tmp_path):
    subs, here, _ = graded_here
    with dask_cluster(tmp_path / "dask", workers=2, nanny=False) as cluster:
        grading = subprocess.Popen(
            [*COURSE, *grade_args(subs, tmp_path, "--scheduler", cluster.address)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        killed, held = kill_a_busy_worker(cluster)
        output = grading.communicate(timeout=280)[0].decode()
    assert grading.returncode == 1, output
    assert killed.returncode == -signal.SIGKILL and held  # it died holding learners
    assert rows(tmp_path / "book.sqlite", "SELECT COUNT(*), COUNT(DISTINCT id) FROM learners") == (
        rows(here / "book.sqlite", "SELECT COUNT(*), COUNT(*) FROM learners")
    )
    scores = "SELECT id, score, error FROM learners ORDER BY id"
    assert rows(tmp_path / "book.sqlite", scores) == rows(here / "book.sqlite", scores)
    assert outputs(tmp_path) == outputs(here)
    graded = len(rows(here / "book.sqlite", "SELECT id FROM learners"))
    assert f"Graded {graded} learner(s)" in output


def kill_a_busy_worker(cluster) -> tuple[subprocess.Popen, list]:
    """SIGKILL the first worker seen grading a learner; return it and the tasks it held."""
    with cluster.client() as client:
        for _ in range(2400):
            busy = {w: keys for w, keys in client.processing().items() if keys}
            if busy:
                address, held = next(iter(busy.items()))
                name = client.scheduler_info()["workers"][address]["name"]  # w0, w1
                worker = cluster.workers[int(name[1:])]  # one we started
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                return worker, held
            time.sleep(0.05)
    raise AssertionError("no worker was ever seen grading")


class KillsItsWorker(WorkerPlugin):
    """Grading `victim` SIGKILLs the worker grading it, every time, on every worker: a
    submission that crashes the checker."""

    name = "test-kills-its-worker"

    def __init__(self, victim: str) -> None:
        self.victim = victim

    def setup(self, worker) -> None:
        import grader.cluster_worker

        real, victim = grader.cluster_worker.grade_learner, self.victim

        def faulty(module, sub, *args, **kwargs):
            if sub.learner == victim:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(module, sub, *args, **kwargs)

        grader.cluster_worker.grade_learner = faulty


def test_a_learner_on_whose_account_workers_die_is_an_error_row_after_three_tries(tmp_path):
    subs = tmp_path / "subs"
    for name in ("ada", "crash", "cyd"):
        learner(subs, name, *SOLUTIONS)
    tries = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "2"}  # as README tells
    with dask_cluster(tmp_path / "dask", workers=2, **tries) as cluster:
        with cluster.client() as client:
            client.register_plugin(KillsItsWorker("crash"))
        args = grade_args(subs, tmp_path, "--scheduler", cluster.address)
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    book = tmp_path / "book.sqlite"
    assert rows(book, "SELECT id, score FROM learners ORDER BY id") == [
        ("ada", 20.0), ("crash", 0.0), ("cyd", 20.0),
    ]  # fmt: skip
    ((error, digest),) = rows(book, "SELECT error, content_hash FROM learners WHERE id = 'crash'")
    assert "not your fault" in error and "on each of the 3 workers that tried" in error
    assert digest == ""  # the next run tries again


def test_ctrl_c_stops_cleanly_and_the_next_run_resumes(graded_here, two_workers, tmp_path):
    subs, here, _ = graded_here
    command = [*COURSE, *grade_args(subs, tmp_path, "--scheduler", two_workers.address)]
    grading = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    book = tmp_path / "book.sqlite"
    wait_until(lambda: recorded(book) > 0)
    os.killpg(grading.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    output = grading.communicate(timeout=120)[0].decode()
    assert grading.returncode == 130, output
    assert "Traceback" not in output and "Interrupted" in output
    kept = rows(book, "SELECT COUNT(*) FROM learners WHERE content_hash != ''")[0][0]
    again = subprocess.run(command, capture_output=True, text=True, timeout=280)
    assert again.returncode == 1, again.stdout + again.stderr
    assert f"skipped {kept} already graded" in again.stdout
    assert outputs(tmp_path)["learners"] == outputs(here)["learners"]


def recorded(book: Path) -> int:
    """The learners in a gradebook that another process may be creating (never created here)."""
    try:
        return rows(book, "SELECT COUNT(*) FROM learners")[0][0] if book.exists() else 0
    except sqlite3.OperationalError:  # not there yet, or its tables not yet made
        return 0


def test_a_scheduler_that_goes_away_mid_batch_is_a_clear_error_and_the_next_run_resumes(
    graded_here, tmp_path
):
    subs, here, _ = graded_here
    book = tmp_path / "book.sqlite"
    with dask_cluster(tmp_path / "dask", workers=2) as cluster:
        command = [*COURSE, *grade_args(subs, tmp_path, "--scheduler", cluster.address)]
        grading = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_until(lambda: recorded(book) > 0)
        cluster.scheduler.kill()  # a lost node: no goodbye
        output = grading.communicate(timeout=120)[0].decode()
    assert grading.returncode == 2, output
    assert LOST.format(address=cluster.address) in output and "Traceback" not in output
    kept = rows(book, "SELECT COUNT(*) FROM learners WHERE content_hash != ''")[0][0]
    with dask_cluster(tmp_path / "dask-again", workers=2) as cluster:
        args = grade_args(subs, tmp_path, "--scheduler", cluster.address)
        again = CliRunner().invoke(main, args)
    assert again.exit_code == 1 and f"skipped {kept} already graded" in again.output
    assert outputs(tmp_path)["learners"] == outputs(here)["learners"]


def wait_until(condition, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.05)


class LacksANetworkNamespace(WorkerPlugin):
    """Runners on this worker would lack a network namespace (as in a container that
    refuses them)."""

    name = "test-lacks-a-network-namespace"

    def setup(self, worker) -> None:
        from grader.zygote import Zygote

        Zygote.isolation = lambda z, limits, namespaces=True: {
            "missing": ["a network namespace"],
            "notes": [],
        }


def test_workers_that_lack_an_isolation_level_grade_nobody(tmp_path):
    subs = tmp_path / "subs"
    learner(subs, "ada", *SOLUTIONS)
    with dask_cluster(tmp_path / "dask", workers=1) as cluster:
        with cluster.client() as client:
            client.register_plugin(LacksANetworkNamespace())
        args = grade_args(subs, tmp_path, "--scheduler", cluster.address)
        refused = CliRunner().invoke(main, args)
        assert refused.exit_code == 2, refused.output
        assert f"the Dask worker {cluster.address.rsplit(':', 1)[0]}" in refused.output
        assert "a network namespace" in refused.output and "--unsafe-no-isolation" in refused.output
        assert "Traceback" not in refused.output
        assert rows(tmp_path / "book.sqlite", "SELECT COUNT(*) FROM learners") == [(0,)]
        anyway = CliRunner().invoke(main, [*args, "--unsafe-no-isolation"])
    assert anyway.exit_code == 0, anyway.output
    assert rows(tmp_path / "book.sqlite", "SELECT id, score FROM learners") == [("ada", 20.0)]


def test_workers_of_another_course_grade_nobody(tmp_path):
    other = fresh_clone(tmp_path / "other")
    check = other / "grader/checks/check_01_lstm_network.py"
    check.write_text(check.read_text() + "\n# another course\n")
    subs = tmp_path / "subs"
    learner(subs, "ada", *SOLUTIONS)
    with dask_cluster(tmp_path / "dask", workers=1, COURSE_ROOT=str(other)) as cluster:
        result = CliRunner().invoke(
            main, grade_args(subs, tmp_path, "--scheduler", cluster.address)
        )
    assert result.exit_code == 2, result.output
    versions = re.findall(
        r"course (\d+\.\d+\.\d+ \(grader and content [0-9a-f]{12}\))", result.output
    )
    assert len(set(versions)) == 2, result.output  # both named, and they differ
    assert "and this machine with course" in result.output
    assert rows(tmp_path / "book.sqlite", "SELECT COUNT(*) FROM learners") == [(0,)]


def test_a_worker_of_another_course_that_joins_later_grades_nobody(tmp_path, module):
    from grader.batch import Submission, read_submission
    from grader.cluster_worker import GraderPlugin, WorkerUnfit, grade_remote, identity
    from grader.grade import GradeOptions

    other = fresh_clone(tmp_path / "other")
    (other / "solutions/01_lstm_network/lstm_network.py").write_text("# another course\n")
    ada = learner(tmp_path / "subs", "ada", *SOLUTIONS)
    options = GradeOptions(exercises=("01_lstm_network",), require_isolation=True)
    handin = read_submission(module, Submission("ada", ada), "digest", options)
    with dask_cluster(tmp_path / "dask", workers=0) as cluster, cluster.client() as client:
        client.register_plugin(GraderPlugin(identity(module), options))  # none to set up
        with worker_process(cluster.address, COURSE_ROOT=str(other)):
            client.wait_for_workers(1, timeout=120)
            task = client.submit(grade_remote, "ada", handin, "digest", options, pure=False)
            with pytest.raises(WorkerUnfit, match="refuses to grade: it grades with course"):
                task.result(timeout=120)


def test_workers_without_the_grader_say_what_to_install(tmp_path):
    python = offline_venv(tmp_path / "venv") / "python"  # Dask, and no lstm-course
    learner(tmp_path / "subs", "ada", *SOLUTIONS)
    with (
        dask_cluster(tmp_path / "dask", workers=0) as cluster,
        worker_process(cluster.address, python=python, cwd=tmp_path),
    ):
        args = grade_args(tmp_path / "subs", tmp_path, "--scheduler", cluster.address)
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "cannot set up the course's grader" in result.output
    assert "No module named 'grader'" in result.output
    assert f"install lstm-course[cluster]=={courseware.__version__}" in result.output


@contextlib.contextmanager
def worker_process(address: str, python=sys.executable, cwd=REPO, **env: str):
    """One more `dask worker`, of `python` in `cwd` with `env`, killed at the end."""
    worker = subprocess.Popen(
        [str(python), "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
         "--host", "127.0.0.1", "--no-dashboard", "--no-nanny"],
        cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        yield worker
    finally:
        worker.kill()
        worker.wait()


def test_a_worker_of_several_threads_grades_nobody(tmp_path):
    subs = tmp_path / "subs"
    learner(subs, "ada", *SOLUTIONS)
    with dask_cluster(tmp_path / "dask", workers=1, threads=2) as cluster:
        args = grade_args(subs, tmp_path, "--scheduler", cluster.address)
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert ONE_THREAD.format(n=2).split("`")[0] in result.output


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    with socket.socket() as free:  # a port nobody listens on: bound, never listening
        free.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{free.getsockname()[1]}"
        learner(tmp_path / "subs", "ada", *SOLUTIONS)
        args = grade_args(tmp_path / "subs", tmp_path, "--scheduler", address)
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert UNREACHABLE.split("{")[0] in result.output and address in result.output
    assert "Traceback" not in result.output


def test_a_scheduler_without_workers_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("grader.cluster.WORKER_SECONDS", 2)  # a minute, in the real thing
    learner(tmp_path / "subs", "ada", *SOLUTIONS)
    with dask_cluster(tmp_path / "dask", workers=0) as cluster:
        args = grade_args(tmp_path / "subs", tmp_path, "--scheduler", cluster.address)
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert NO_WORKERS.format(address=cluster.address, seconds=2) in result.output


def test_a_server_that_is_no_scheduler_is_a_clear_error(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as server:
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        answer = threading.Thread(target=talk_nonsense, args=(server,), daemon=True)
        answer.start()
        learner(tmp_path / "subs", "ada", *SOLUTIONS)
        args = grade_args(tmp_path / "subs", tmp_path, "--scheduler", address)
        result = CliRunner().invoke(main, args)
        answer.join(timeout=10)
    assert result.exit_code == 2, result.output
    assert "what answers is no Dask scheduler" in result.output and address in result.output
    assert "Traceback" not in result.output


def talk_nonsense(server: socket.socket) -> None:
    """Answer one connection as a web server would: a header Dask reads as a frame's length."""
    connection, _ = server.accept()
    with connection:
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4)
        time.sleep(1)


@pytest.mark.parametrize("address", ["local:0", "nonsense://here", "local:two"])
def test_an_address_that_is_none_is_a_usage_error(tmp_path, address):
    learner(tmp_path / "subs", "ada", *SOLUTIONS)
    result = CliRunner().invoke(
        main, grade_args(tmp_path / "subs", tmp_path, "--scheduler", address)
    )
    assert result.exit_code == 2, result.output
    assert BAD_ADDRESS.format(address=address).split(":")[0] in result.output


def test_without_dask_scheduler_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed: ImportError
    learner(tmp_path / "subs", "ada", *SOLUTIONS)
    args = grade_args(tmp_path / "subs", tmp_path, "--scheduler", "local:1")
    result = CliRunner().invoke(main, args)
    needs = NEEDS_DASK.format(package="lstm-course")  # the name pip installed this course as
    assert result.exit_code == 2 and needs in result.output.replace("\n", " ")


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--batch", "--jobs", "2"], "--jobs counts this machine's workers"),
        ([], "--scheduler goes with --batch"),
    ],
)
def test_scheduler_goes_with_batch_and_not_with_jobs(tmp_path, extra, says):
    result = CliRunner().invoke(main, ["grade", str(tmp_path), *extra, "--scheduler", "local:1"])
    assert result.exit_code == 2 and says in result.output


def test_a_local_cluster_grades_as_the_local_batch(graded_here, tmp_path):
    subs, here, _ = graded_here
    result = CliRunner().invoke(main, grade_args(subs, tmp_path, "--scheduler", "local:2"))
    assert result.exit_code == 1, result.output
    assert outputs(tmp_path) == outputs(here)


def test_the_workers_of_a_local_cluster_share_one_import_of_torch_and_start_their_zygotes(module):
    from grader.cluster import connect
    from grader.grade import GradeOptions

    def family() -> tuple[int, int, bool]:
        """On a worker: its parent, its zygote's parent (as its own pid's offset), and whether
        its parent holds torch (imported there once, before the worker was forked)."""
        from grader.cluster_worker import _WARM

        ((zygote, _),) = _WARM.values()
        ppid = int(Path(f"/proc/{zygote.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        maps = Path(f"/proc/{os.getppid()}/maps").read_text()
        return os.getppid(), ppid - os.getpid(), "libtorch" in maps

    options = GradeOptions.of(exercises=("01_lstm_network",))
    with connect("local:2", module, options) as cluster:
        seen = list(cluster.client.run(family).values())
    assert len(seen) == 2 and seen[0][0] == seen[1][0] != os.getpid()  # one parent, not us
    assert [(zygote, torch) for _, zygote, torch in seen] == [(0, True)] * 2  # zygote: its own


def test_the_progress_bar_counts_the_learners_not_graded_and_the_pace():
    from types import SimpleNamespace

    from course.commands import _Tally

    tally = _Tally(started=time.monotonic() - 600)  # ten minutes ago: seconds more change nothing
    assert tally.text(None) == ""
    for i in range(60):
        tally.add(SimpleNamespace(error="not a valid zip archive" if i % 10 == 0 else None))
    assert tally.text(None) == "6 failed, 6/min"
