"""The portable runner backend (grader/portable.py), as macOS and Windows learners get it,
exercised here on Linux: grading, the backend's choice, honest isolation, and the basics of
hostile code survived with no process of the submission left running."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import psutil
import pytest

from grader.confined.limits import Limits
from tests.helpers import REPO, failed_messages, solution

EX1 = "01_lstm_network"
FAST = {"request_seconds": 3.0, "exercise_seconds": 30.0}
WRONG_FORWARD = "        return torch.zeros(*x.shape[:-2], self.out)\n"


@pytest.fixture(scope="module")
def portable():
    from grader.portable import PortableZygote

    zygote = PortableZygote()
    yield zygote
    zygote.close()


def carriers(tokens: list[str]) -> list[int]:
    """Live processes that carry one of `tokens` (the runners this test's zygote started)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and proc.environ().get(
                "COURSE_RUNNER_TOKEN"
            ) in set(tokens):
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def grade_with(module, zygote, tmp_path, source: str, exercise: str = EX1, **limits):
    from grader.grade import GradeOptions, grade

    ex = module.exercise(exercise)
    (tmp_path / ex.id).mkdir(exist_ok=True)
    path = tmp_path / ex.id / ex.file
    path.write_text(source)
    options = GradeOptions(limits=replace(Limits(), **limits))
    (result,) = grade(module, path, options, zygote=zygote).exercises
    return result


def wrong_with(module, trick: str) -> str:
    """The solution of exercise 1 with `trick` run first in its forward (a wrong result)."""
    source = solution(module, EX1)
    body = textwrap.indent(textwrap.dedent(trick), "        ")
    return re.sub(r"(    def forward\(self[^\n]*\n)", lambda m: m.group(1) + body, source, count=1)


def test_the_solution_and_a_mistake_through_the_portable_backend(module, portable, tmp_path):
    good = grade_with(module, portable, tmp_path, solution(module, EX1))
    assert good.score == good.max_score, failed_messages(good)
    assert good.isolation["backend"] == "portable"
    assert "a PID namespace" in good.isolation["missing"]  # said, never claimed
    bad = grade_with(module, portable, tmp_path, wrong_with(module, "x = x * 0"))
    assert 0 < bad.score < bad.max_score or bad.score == 0
    assert failed_messages(bad)


def _grade_in_worker(module, zygote, folder, answers) -> None:
    """In a forked worker: the score of the reference, and the tokens of every runner the
    worker's copy of `zygote` started (spawned or waiting)."""
    result = grade_with(module, zygote, folder, solution(module, EX1))
    tokens = [*zygote.tokens, *(s.token for s in zygote._waiting)]
    answers.put((result.score, result.max_score, tokens))


def test_a_handle_forked_into_a_batch_worker_starts_runners_of_its_own(module, tmp_path):
    """A batch forks its workers after the handles exist: a runner the parent started cannot
    be waited for by the worker (Popen reads it as exited with code 0, and every learner got
    0). The worker grades with runners of its own, and they end when it does."""
    import multiprocessing

    from grader.portable import PortableZygote

    (lazy,) = PortableZygote.start_shared(1)
    warm = PortableZygote()  # runners started before the fork, as in a warm grader
    context = multiprocessing.get_context("fork")
    try:
        for handle in (lazy, warm):
            answers = context.Queue()
            worker = context.Process(
                target=_grade_in_worker, args=(module, handle, tmp_path, answers)
            )
            worker.start()
            score, full, tokens = answers.get(timeout=300)
            worker.join(60)
            assert score == full
            assert tokens and not set(tokens) & {s.token for s in warm._waiting}
            deadline = time.monotonic() + 10
            while carriers(tokens) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert carriers(tokens) == []
    finally:
        lazy.close()
        warm.close()


def test_the_backend_is_chosen_in_one_place(monkeypatch):
    from grader import backend

    monkeypatch.setenv("COURSE_SANDBOX", "portable")
    assert backend.chosen() == "portable"
    monkeypatch.setenv("COURSE_SANDBOX", "auto")
    assert backend.chosen() == ("linux" if not backend.linux_unavailable() else "portable")
    monkeypatch.setenv("COURSE_SANDBOX", "bsd-jail")
    with pytest.raises(backend.UnknownBackend, match="auto, linux, portable"):
        backend.chosen()
    monkeypatch.setattr(backend, "linux_unavailable", lambda: "this system is darwin")
    monkeypatch.setenv("COURSE_SANDBOX", "linux")
    with pytest.raises(backend.UnknownBackend, match=r"darwin.*COURSE_SANDBOX=portable"):
        backend.chosen()
    monkeypatch.setenv("COURSE_SANDBOX", "auto")
    assert backend.chosen() == "portable"


def test_zygote_start_gives_the_chosen_backend(monkeypatch):
    from grader.portable import PortableZygote
    from grader.zygote import Zygote

    monkeypatch.setenv("COURSE_SANDBOX", "portable")
    zygote = Zygote.start()
    try:
        assert isinstance(zygote, PortableZygote)
    finally:
        zygote.close()


def test_batch_refuses_the_portable_backend_unless_unsafe(module, portable, tmp_path):
    from grader.grade import IsolationMissing, require_isolation

    iso = portable.isolation(Limits())
    assert iso["backend"] == "portable" and iso["missing"]
    with pytest.raises(IsolationMissing, match="a PID namespace"):
        require_isolation(iso)
    assert carriers(portable.tokens) == []


def test_course_grade_batch_refuses_the_portable_backend(tmp_path):
    learner = tmp_path / "class" / "alice"
    learner.mkdir(parents=True)
    reference = REPO / "solutions" / EX1 / "lstm_network.py"
    (learner / "lstm_network.py").write_text(reference.read_text())
    env = {**os.environ, "COURSE_SANDBOX": "portable", "COURSE_ROOT": str(REPO), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "course", "grade", str(tmp_path / "class"), "--batch"],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the portable backend" in done.stderr and "--unsafe-no-isolation" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_terminal_says_the_portable_backend_is_weaker(tmp_path):
    folder = tmp_path / EX1
    folder.mkdir()
    (folder / "lstm_network.py").write_text(
        (REPO / "solutions" / EX1 / "lstm_network.py").read_text()
    )
    env = {**os.environ, "COURSE_SANDBOX": "portable", "COURSE_ROOT": str(REPO), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "course", "grade", str(folder), "--device", "cpu"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "portable backend" in done.stdout and "weaker than Linux" in done.stdout
    assert "Traceback" not in done.stderr


# The token-less sleeper's code, marked with this run's pid: strays() finds this run's only,
# never one that another run of these tests on the same host started.
SLEEPER = f"import time; time.sleep(120)  # started by test run {os.getpid()}"
HOSTILE = {
    "infinite loop": ("while True:\n    pass\n", "did not finish within"),
    "os._exit": ("import os\nos._exit(0)\n", "ended the grader's runner"),
    "output flood": (
        "import sys\nfor _ in range(200000):\n    print('x' * 1000)\n",
        "File too large|printed more than",  # RLIMIT_FSIZE, or the watch where none applies
    ),
    "fork bomb": (
        "import os, time\nfor _ in range(8):\n    os.fork()\ntime.sleep(60)\n",
        "ended the grader's runner|did not finish",
    ),
    "orphans": (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        time.sleep(120)\n    os._exit(0)\ntime.sleep(60)\n",
        "did not finish within",
    ),
    "orphan without the token": (
        "import os, subprocess, sys, time\nif os.fork() == 0:\n    os.setsid()\n"
        f"    subprocess.Popen([sys.executable, '-c', {SLEEPER!r}], env={{}},"
        " start_new_session=True)\n    os._exit(0)\ntime.sleep(60)\n",
        "did not finish within",
    ),
    "orphan out of the tree before any scan": (  # Linux: the runner is its subreaper
        "import os, sys, time\nif os.fork() == 0:\n    if os.fork() == 0:\n        os.setsid()\n"
        f"        os.execve(sys.executable, [sys.executable, '-c', {SLEEPER!r}], {{}})\n"
        "    os._exit(0)\nos.wait()\ntime.sleep(60)\n",
        "did not finish within",
    ),
    "memory bomb": (
        "hoard = []\nwhile True:\n    hoard.append(bytearray(64 << 20))\n",
        "MemoryError|memory",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_basics_are_survived_and_nothing_outlives_grading(module, portable, tmp_path, name):
    trick, says = HOSTILE[name]
    before = len(portable.tokens)
    limits = {**FAST, "memory_bytes": 1536 << 20, "file_bytes": 16 << 20}
    start = time.monotonic()
    result = grade_with(module, portable, tmp_path, wrong_with(module, trick), **limits)
    assert result.score < result.max_score
    assert re.search(says, failed_messages(result)), failed_messages(result)
    tokens = portable.tokens[before:]
    assert tokens
    deadline = time.monotonic() + 3
    while carriers(tokens) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert carriers(tokens) == []
    assert strays(start) == []


def strays(since: float) -> list[int]:
    """Live sleepers that this run's learner code started after `since` (wall clock), token or
    not."""
    found = []
    for proc in psutil.process_iter(["cmdline", "create_time"]):
        cmdline = proc.info["cmdline"] or []
        recent = (proc.info["create_time"] or 0) >= time.time() - (time.monotonic() - since)
        if recent and SLEEPER in cmdline:
            with contextlib.suppress(psutil.Error):
                if proc.status() != psutil.STATUS_ZOMBIE:
                    found.append(proc.pid)
    return found


def test_a_portable_runner_loads_only_the_runner_side(portable):
    """The runner half lives in grader/confined/ (the import-linter contract covers it): a
    runner, by the time it meets learner code, has imported no module of the checker side,
    of course/ or of courseware/."""
    from grader.zygote import RunnerSpec

    source = (
        "import sys\n"
        "for _name in [m for m in sys.modules if m.split('.')[0] in ('grader', 'course', "
        "'courseware')]:\n"
        "    globals()['LOADED_' + _name.replace('.', '_')] = 1\n"
    )
    runner = portable.spawn(RunnerSpec(EX1, (), Limits()))
    try:
        runner.hello(60)
        reply = runner.request(
            {"op": "load", "source": source, "filename": "f.py", "module": "f"}, 30
        )
    finally:
        runner.close()
    loaded = [n.removeprefix("LOADED_") for n in reply["names"] if n.startswith("LOADED_")]
    assert "grader_confined_preload" in loaded and "grader_confined_probes" in loaded
    assert [m for m in loaded if not m.startswith("grader_confined")] == ["grader"], loaded


def test_memory_is_polled_where_no_rlimit_caps_it(portable):
    """macOS ignores RLIMIT_AS: the resident size of the tree is polled (as here for a spec
    marked for CUDA, which gets no address-space limit on any system)."""
    from grader.zygote import RunnerDied, RunnerSpec

    runner = portable.spawn(RunnerSpec(EX1, (), Limits(memory_bytes=900 << 20), cuda=True))
    try:
        assert runner.hello(60)["backend"] == "portable"
        hog = 'hoard = []\nwhile True:\n    hoard.append(b"x" * (32 << 20))\n'
        with pytest.raises(RunnerDied, match="more than the 900 MiB allowed"):
            runner.request({"op": "load", "source": hog, "filename": "hog.py", "module": "hog"}, 30)
    finally:
        runner.close()
    assert carriers(portable.tokens[-1:]) == []


def test_a_runner_dies_with_its_grader(tmp_path):
    """No pool runner outlives a grader killed outright (SIGKILL: no cleanup runs)."""
    script = (
        "import sys, time\nfrom grader.portable import PortableZygote\n"
        "z = PortableZygote()\nprint(' '.join(s.token for s in z._waiting), flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    tokens = proc.stdout.readline().split()
    assert len(tokens) == 2
    deadline = time.monotonic() + 30
    while len(carriers(tokens)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(carriers(tokens)) == 2
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while carriers(tokens) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert carriers(tokens) == []


def test_course_reaches_runners_only_through_the_grader_entry_point():
    """course/ never starts a zygote or builds limits: grader.grade.Grader and GradeOptions.of
    are its one way in, so the backend is chosen in one place for every command."""
    import ast

    for path in sorted((REPO / "course").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module not in {
                    "grader.zygote",
                    "grader.confined.limits",
                    "grader.confined.sandbox",
                }, f"{path.name}:{node.lineno} imports {node.module}"


def test_grade_options_of_builds_the_limits():
    from grader.grade import GradeOptions

    options = GradeOptions.of(request_seconds=3.0, memory_mib=512, device="cpu")
    assert options.limits == replace(Limits(), request_seconds=3.0, memory_bytes=512 << 20)
    assert options.device == "cpu" and GradeOptions.of().limits == Limits()


def test_every_report_names_its_backend(grade_source, module):
    """The session's zygote is the chosen backend's (COURSE_SANDBOX): its reports say which."""
    from grader import backend

    result = grade_source(EX1, solution(module, EX1))
    assert result.isolation["backend"] == backend.chosen()
