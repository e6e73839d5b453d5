"""Hostile and broken submissions. Each must end below full marks (or at zero) with a clear
message where there is one to give, the grader alive and quick, no process of the submission
left running, and nothing written outside the runner's private folder."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import torch

from tests.helpers import (
    EX1,
    FAST,
    REPO,
    WRONG,
    assert_nothing_left,
    failed_messages,
    python_world_readable,
    solution,
)


def wrong_with(trick: str, at_import: str = "") -> str:
    """The wrong network, with `trick` run in forward and `at_import` at import time."""
    body = textwrap.indent(textwrap.dedent(trick), "    ") or "    pass"
    return textwrap.dedent(at_import) + "\n\ndef trick(x):\n" + body + "\n" + WRONG


@pytest.fixture
def hostile(grade_source, zygote):
    """Grade `source` as exercise 1 with short limits; check the universal promises."""

    def run(source: str, **limits):
        start = time.monotonic()
        result = grade_source(EX1, source, **{**FAST, **limits})
        assert time.monotonic() - start < 60
        assert result.score < result.max_score
        assert_nothing_left(zygote)
        return result

    return run


sandboxed = pytest.mark.skipif(
    os.geteuid() != 0, reason="full isolation needs root (CI runs as root)"
)


def test_exit_at_import(hostile):
    result = hostile("import sys\nsys.exit(3)\n" + WRONG)
    assert result.score == 0
    assert "Importing lstm_network.py raised SystemExit at line 2" in failed_messages(result)


def test_hard_exit_at_import(hostile):
    result = hostile("import os\nos._exit(3)\n" + WRONG)
    assert result.score == 0
    assert "ended the grader's runner: the runner exited with code 3" in failed_messages(result)


def test_os_exit_in_forward(hostile):
    result = hostile(wrong_with("import os\nos._exit(0)"))
    assert "ended the grader's runner" in failed_messages(result)


def test_infinite_loop_ignoring_signals(hostile):
    trick = """
    import signal
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        pass
    """
    result = hostile(wrong_with(trick), request_seconds=1.0, exercise_seconds=6.0)
    assert "did not finish within 1 s" in failed_messages(result)


def test_eating_memory(hostile):
    trick = """
    hoard = []
    while True:
        hoard.append(bytearray(64 << 20))
    """
    # Filling 1.5 GiB takes 0.6 s here when quiet, longer on a loaded machine: the time limit
    # is not what this checks.
    result = hostile(wrong_with(trick), memory_bytes=1536 << 20, request_seconds=15.0)
    assert "MemoryError" in failed_messages(result) or "memory" in failed_messages(result)


@sandboxed
def test_many_processes_and_a_daemon_in_a_new_session(hostile):
    trick = """
    import os, time
    if os.fork() == 0:  # a double-forked daemon in its own session
        os.setsid()
        if os.fork() == 0:
            time.sleep(120)
        os._exit(0)
    children = 0
    try:
        for _ in range(500):
            if os.fork() == 0:
                time.sleep(120)
                os._exit(0)
            children += 1
    except OSError:
        pass
    raise RuntimeError(f"forked {children} children")
    """
    result = hostile(wrong_with(trick))
    forked = int(re.search(r"forked (\d+) children", failed_messages(result)).group(1))
    assert forked < 64  # RLIMIT_NPROC holds: the runner is not root


def test_writing_gigabytes(hostile, tmp_path):
    trick = """
    with open("big.bin", "wb") as f:
        for _ in range(4096):
            f.write(b"0" * (1 << 20))
    """
    before = _free_bytes()
    result = hostile(wrong_with(trick))
    assert "File too large" in failed_messages(result) or "No space" in failed_messages(result)
    assert _free_bytes() > before - (200 << 20)


def _free_bytes() -> int:
    stat = os.statvfs("/tmp")
    return stat.f_bavail * stat.f_frsize


def test_flooding_stdout_and_stderr(hostile):
    trick = """
    import sys
    for _ in range(20000):
        print("x" * 1000)
        print("y" * 1000, file=sys.stderr)
    raise ValueError("done flooding")
    """
    result = hostile(wrong_with(trick))
    assert "done flooding" in failed_messages(result)
    assert len(result.output) <= 2000


def test_patching_torch_pytest_and_unittest(hostile):
    at_import = """
    import unittest, torch, pytest
    torch.allclose = lambda *a, **k: True
    torch.equal = lambda *a, **k: True
    torch.Tensor.__eq__ = lambda *a, **k: True
    pytest.fail = lambda *a, **k: None
    unittest.TestCase.assertEqual = lambda *a, **k: None
    """
    result = hostile(wrong_with("pass", at_import))
    assert "different values" in failed_messages(result)


def test_patching_builtins(hostile):
    at_import = """
    import builtins
    builtins.isinstance = lambda *a: True
    builtins.type = lambda *a: object
    """
    result = hostile(wrong_with("pass", at_import))
    assert result.score == 0 and failed_messages(result)


def test_tensor_subclass_and_equal_to_anything(hostile):
    at_import = """
    import torch
    class Liar(torch.Tensor):
        def __eq__(self, other):
            return True
    class Anything:
        def __eq__(self, other):
            return True
        shape = property(lambda self: (4, 1))
    """
    source = wrong_with("pass", at_import).replace(
        "return torch.zeros(shape, dtype=x.dtype) + 0 * self.fc.bias.sum()",
        "return Anything() if x.dim() == 2 else torch.zeros(shape).as_subclass(Liar)",
    )
    result = hostile(source)
    assert result.score == 0  # a structure alone earns nothing
    assert "returned a Liar" in failed_messages(result) or "not a tensor" in failed_messages(result)


def test_reading_the_graders_environment(hostile, monkeypatch):
    monkeypatch.setenv("COURSE_SECRET_TOKEN", "hunter2-do-not-leak")
    trick = """
    import os
    seen = str(dict(os.environ))
    for path in ("/proc/self/environ", "/proc/1/environ", "/proc/self/cmdline"):
        try:
            seen += open(path, "rb").read().decode(errors="replace")
        except OSError as exc:
            seen += repr(exc)
    raise RuntimeError(seen)
    """
    result = hostile(wrong_with(trick))
    messages = failed_messages(result) + result.output
    assert "PATH=" in messages or "'PATH'" in messages
    assert "hunter2" not in messages


@sandboxed
def test_opening_network_connections(hostile):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    port = server.getsockname()[1]
    trick = f"""
    import socket
    socket.create_connection(("127.0.0.1", {port}), timeout=1).sendall(b"exfiltrate")
    """
    result = hostile(wrong_with(trick))
    assert "OSError" in failed_messages(result) or "Error" in failed_messages(result)
    with pytest.raises(TimeoutError):
        server.accept()
    server.close()


@sandboxed
def test_writing_fake_results_and_rewriting_checks(hostile, tmp_path):
    check = REPO / "grader/checks/check_01_lstm_network.py"
    digest = hashlib.sha256(check.read_bytes()).hexdigest()
    fake = tmp_path / "results.json"
    trick = f"""
    for path in ({str(check)!r}, {str(fake)!r}, "/tmp/course-fake-results.json"):
        try:
            with open(path, "w") as f:
                f.write('{{"score": 10, "max_score": 10}}')
        except OSError:
            pass
    """
    hostile(wrong_with(trick))
    assert hashlib.sha256(check.read_bytes()).hexdigest() == digest
    assert not fake.exists()
    assert not Path("/tmp/course-fake-results.json").exists()


def test_atexit_hooks_never_run(hostile, tmp_path):
    marker = tmp_path / "atexit-ran"
    at_import = f"""
    import atexit
    atexit.register(lambda: open({str(marker)!r}, "w").write("ran"))
    atexit.register(lambda: print("SCORE: 10/10"))
    """
    result = hostile(wrong_with("pass", at_import))
    assert not marker.exists() and "SCORE: 10/10" not in result.output


def test_conftest_sitecustomize_and_random_beside_the_file(module, zygote, tmp_path):
    from grader.grade import grade

    folder = tmp_path / EX1
    folder.mkdir()
    (folder / "lstm_network.py").write_text(solution(module, EX1))
    marker = tmp_path / "shadow-ran"
    poison = f"open({str(marker)!r}, 'w').write('ran')\nraise SystemExit(7)\n"
    for name in ("conftest.py", "sitecustomize.py", "random.py", "torch.py", "pytest.py"):
        (folder / name).write_text(poison)
    (result,) = grade(module, folder, zygote=zygote).exercises
    assert result.complete, failed_messages(result)
    assert not marker.exists()


def test_walking_the_callers_stack_finds_nothing(hostile):
    trick = """
    import gc, inspect, torch
    found = []
    for frame in inspect.stack():
        found += [v for v in frame.frame.f_locals.values() if type(v) is torch.Tensor]
    found += [o for o in gc.get_objects() if type(o) is torch.Tensor and o.dim() == 2]
    global LOOT
    LOOT = found
    """
    source = wrong_with(trick).replace(
        "return torch.zeros(shape, dtype=x.dtype) + 0 * self.fc.bias.sum()",
        "return next((t for t in LOOT if tuple(t.shape) == shape), torch.zeros(shape))",
    )
    result = hostile(source)
    assert "different values" in failed_messages(result) or "shape" in failed_messages(result)


def test_mutating_inputs_in_place(module, hostile):
    source = solution(module, EX1).replace(
        "        return y if batched else y.squeeze(0)",
        "        x.mul_(0)\n        return y if batched else y.squeeze(0)",
    )
    result = hostile(source)
    assert "changed its input x in place" in failed_messages(result)


def test_changing_torch_global_state_stays_in_the_runner(hostile):
    at_import = """
    import torch
    torch.set_default_dtype(torch.float64)
    torch.set_grad_enabled(False)
    torch.manual_seed(1234)
    torch.set_num_threads(64)
    """
    hostile(wrong_with("pass", at_import))
    assert torch.get_default_dtype() is torch.float32 and torch.is_grad_enabled()


@sandboxed
def test_importing_the_reference_solution(hostile):
    at_import = f"""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "ref", {str(REPO / "solutions/01_lstm_network/lstm_network.py")!r}
    )
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    LSTMNetwork = ref.LSTMNetwork
    """
    result = hostile(textwrap.dedent(at_import))
    assert result.score == 0
    assert "FileNotFoundError" in failed_messages(result)


@sandboxed
def test_isolation_levels_are_reported(grade_source, module):
    result = grade_source(EX1, solution(module, EX1))
    iso = result.isolation
    assert iso["limits"] and iso["own_session"] and iso["environment_scrubbed"]
    assert iso["pid_namespace"] and iso["network_namespace"]
    assert iso["separate_user"].startswith("uid ") and iso["privileges_dropped"]
    assert iso["filesystem_view"].startswith("allowlist")
    assert iso["missing"] == []


def test_memory_is_polled_where_no_address_space_limit_applies(zygote):
    """CUDA runners get no RLIMIT_AS (it breaks CUDA): the checker polls their resident memory
    instead. Exercised here on CPU with a runner spec marked for CUDA."""
    from grader.confined.sandbox import Limits
    from grader.zygote import RunnerDied, RunnerSpec

    runner = zygote.spawn(
        RunnerSpec("01_lstm_network", (), Limits(memory_bytes=300 << 20), cuda=True)
    )
    try:
        assert runner.hello(30)["limits"] is True
        hog = 'hoard = []\nwhile True:\n    hoard.append(b"x" * (32 << 20))\n'
        with pytest.raises(RunnerDied, match="more than the 300 MiB allowed"):
            runner.request({"op": "load", "source": hog, "filename": "hog.py", "module": "hog"}, 20)
    finally:
        runner.close()
    assert_nothing_left(zygote)


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv") or not python_world_readable(),
    reason="needs root to switch to an ordinary user, and a Python that user can read (on "
    "these machines it lives under /root, mode 700; run once by hand with /root at 711)",
)
def test_an_ordinary_user_gets_a_user_namespace(module):
    """A learner is not root: the runner then confines itself in a user namespace."""
    folder = Path(tempfile.mkdtemp(prefix="course-ordinary-"))
    try:
        (folder / "lstm_network.py").write_text(solution(module, EX1))
        os.chmod(folder, 0o777)
        out = folder / "r.json"
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                "-m", "course", "grade", str(folder), "--json", str(out)]  # fmt: skip
        env = {**os.environ, "HOME": str(folder)}
        run = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
        assert "Total: 10/" in run.stdout, run.stdout + run.stderr
        iso = json.loads(out.read_text())["isolation"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert iso["user_namespace"] and iso["network_namespace"] and iso["pid_namespace"]
    assert iso["separate_user"].startswith("no: the runner is you")


def test_checker_work_overlaps_the_runner_and_a_failure_there_restarts_it(zygote):
    from grader.confined.sandbox import Limits
    from grader.zygote import RunnerSpec

    load = {
        "op": "load",
        "source": "import time\ntime.sleep(0.3)\nX = 1\n",
        "filename": "f.py",
        "module": "f",
    }
    runner = zygote.spawn(RunnerSpec("01_lstm_network", (), Limits()))
    try:
        runner.hello(30)
        seen = []
        reply = runner.request(load, 5, while_waiting=lambda: seen.append("checker work ran"))
        assert reply["names"] == ["time", "X"] and seen == ["checker work ran"]

        def broken():
            raise RuntimeError("a bug in the checker")

        with pytest.raises(RuntimeError, match="a bug in the checker"):
            runner.request(load, 5, while_waiting=broken)
        assert not runner.alive  # its reply must not answer the next request
    finally:
        runner.close()
    assert_nothing_left(zygote)


DAEMON = """
import os, time
r, w = os.pipe()
if os.fork() == 0:  # a double-forked daemon in a session of its own
    os.setsid()
    if os.fork() == 0:
        os.write(w, str(os.getpid()).encode())
        time.sleep(120)
    os._exit(0)
raise RuntimeError(f"daemon {int(os.read(r, 32))}")
"""


def test_without_namespaces_what_the_runner_starts_dies_with_it(zygote):
    """No PID namespace to end them all: the supervisor, subreaper of everything the runner
    starts, kills a daemon that left the runner's session once the runner is killed."""
    from grader.confined.sandbox import Limits
    from grader.zygote import RunnerSpec

    runner = zygote.spawn(RunnerSpec("01_lstm_network", (), Limits(), namespaces=False))
    try:
        assert not runner.hello(30)["pid_namespace"]
        load = {"op": "load", "source": DAEMON, "filename": "d.py", "module": "d"}
        reply = runner.request(load, 10)
    finally:
        runner.close()
    daemon = int(re.search(r"daemon (\d+)", reply["error"]["message"]).group(1))
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{daemon}") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not os.path.exists(f"/proc/{daemon}")


def test_without_a_view_the_runner_reports_the_references_it_can_read(zygote):
    """No mount namespace, no view: only file permissions keep the references from the
    runner. Its hello lists those it could read, and the level is missing; a reference only
    its owner may read is out of reach of a runner that became another user."""
    from grader.confined.sandbox import Limits, _python_readable_by_all
    from grader.zygote import RunnerSpec

    folder = Path(tempfile.mkdtemp(dir="/tmp"))  # not pytest's: its parent is the owner's only
    open_to_all, owner_only = folder / "open.py", folder / "owner.py"
    for path, mode in ((open_to_all, 0o644), (owner_only, 0o600)):
        path.write_text("# a reference\n")
        path.chmod(mode)
    folder.chmod(0o711)
    secrets = (str(open_to_all), str(owner_only))
    spec = RunnerSpec("01_lstm_network", (), Limits(), namespaces=False, secrets=secrets)
    runner = zygote.spawn(spec)
    try:
        iso = runner.hello(30)
    finally:
        runner.close()
    switched = iso["separate_user"].startswith("uid ")
    assert switched == (os.geteuid() == 0 and _python_readable_by_all())
    assert iso["exposed"] == ([str(open_to_all)] if switched else list(secrets))
    assert any(m.startswith("the references out of reach") for m in iso["missing"])

    spec = RunnerSpec("01_lstm_network", (), Limits(), secrets=secrets)  # with the view
    runner = zygote.spawn(spec)
    try:
        iso = runner.hello(30)
    finally:
        runner.close()
    shutil.rmtree(folder)
    if iso["filesystem_view"].startswith("allowlist"):
        assert iso["exposed"] == [] and not any("references" in m for m in iso["missing"])
    assert_nothing_left(zygote)


def test_without_namespaces_the_runner_still_confines_what_it_can(zygote):
    """Where the kernel refuses namespaces (e.g. a container without CAP_SYS_ADMIN), the
    runner keeps its limits, scrubbed environment and session, switches user when Python is
    readable by another user, and says what is missing."""
    from grader.confined.sandbox import Limits, _python_readable_by_all
    from grader.zygote import RunnerSpec

    runner = zygote.spawn(RunnerSpec("01_lstm_network", (), Limits(), namespaces=False))
    try:
        iso = runner.hello(30)
        source = "import os\nUID = os.getuid()\nENV = sorted(os.environ)\n"
        reply = runner.request(
            {"op": "load", "source": source, "filename": "f.py", "module": "f"}, 10
        )
    finally:
        runner.close()
    assert reply["names"] == ["os", "UID", "ENV"]
    assert iso["limits"] and iso["environment_scrubbed"] and iso["own_session"]
    assert not iso["pid_namespace"] and not iso["network_namespace"]
    assert iso["filesystem_view"].startswith("no")
    assert "no namespaces (not asked for)" in iso["notes"]
    if os.geteuid() == 0 and _python_readable_by_all():
        assert iso["separate_user"].startswith("uid ")
    elif os.geteuid() == 0:
        assert any("runs as root" in note for note in iso["notes"])
    assert_nothing_left(zygote)
