"""Kernel objects that namespaces do not cover: the runner holds a fresh, empty session
keyring (none of the grader's keys), and a seccomp deny-list makes what learner code never
needs fail with EPERM, reported as the learner's error; what it does need still works."""

from __future__ import annotations

import ast
import errno
import json
import platform
import re
import subprocess
import sys
import textwrap

import pytest

from grader.confined.sandbox import Limits
from grader.zygote import RunnerSpec
from tests.helpers import REPO, failed_messages, solution

EX1 = "01_lstm_network"
# The calls' numbers here; the filter itself names them (libseccomp knows every architecture).
NUMBERS = {
    "x86_64": {"add_key": 248, "keyctl": 250, "bpf": 321, "perf_event_open": 298,
               "io_uring_setup": 425, "userfaultfd": 323, "unshare": 272, "setns": 308,
               "kexec_load": 246, "ptrace": 101},
    "aarch64": {"add_key": 217, "keyctl": 219, "bpf": 280, "perf_event_open": 241,
                "io_uring_setup": 425, "userfaultfd": 282, "unshare": 97, "setns": 268,
                "kexec_load": 104, "ptrace": 117},
}  # fmt: skip
SYS = NUMBERS.get(platform.machine(), {})
known_machine = pytest.mark.skipif(not SYS, reason=f"no syscall numbers for {platform.machine()}")

# Learner code: each denied call with arguments that would not fail with EPERM if allowed
# (keyctl(KEYCTL_GET_KEYRING_ID, @s) answers a keyring's id; the others fault on NULL).
TRY_DENIED = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
SYS = {sys!r}
ARGS = {{"keyctl": (0, -3, 0), "add_key": (0, 0, 0, 0, -3), "unshare": (0x40000000,),
         "setns": (-1, 0), "ptrace": (16, 1, 0, 0)}}
seen = {{}}
for name, number in SYS.items():
    result = libc.syscall(number, *ARGS.get(name, (0, 0, 0, 0, 0)))
    seen[name] = ctypes.get_errno() if result < 0 else "allowed"
raise RuntimeError(f"SEEN={{seen!r}}")
"""


def _seen(message: str) -> dict:
    """What TRY_DENIED found, from its message (not from the quoted line of its code)."""
    return ast.literal_eval(re.search(r"SEEN=(\{'[^}]*\})", message).group(1))


def _load(source: str) -> dict:
    return {"op": "load", "source": source, "filename": "f.py", "module": "f"}


@known_machine
def test_a_denied_call_fails_with_eperm_and_is_the_learners_error(grade_source, module):
    source = TRY_DENIED.format(sys=SYS) + solution(module, EX1)
    result = grade_source(EX1, source)
    assert result.score == 0 and result.isolation["syscall_filter"].startswith("seccomp")
    messages = failed_messages(result)
    assert "Importing lstm_network.py raised RuntimeError" in messages
    assert "not your fault" not in messages  # the learner's error, not the grader's
    assert _seen(messages) == dict.fromkeys(SYS, errno.EPERM)


@known_machine
def test_without_the_filter_the_same_calls_reach_the_kernel(zygote):
    """The EPERM above is the filter's: without it (forced off), the kernel answers."""
    runner = zygote.spawn(RunnerSpec(EX1, (), Limits(), syscall_filter=False))
    try:
        iso = runner.hello(30)
        reply = runner.request(_load(TRY_DENIED.format(sys=SYS)), 10)
    finally:
        runner.close()
    assert iso["syscall_filter"] == "no (not asked for)"
    assert "a system-call filter (seccomp)" in iso["missing"]
    seen = _seen(reply["error"]["message"])
    assert seen["keyctl"] == "allowed" and seen["perf_event_open"] != errno.EPERM


def test_what_learner_code_needs_still_works_under_the_filter(grade_source, module):
    at_import = textwrap.dedent(
        """
        import os, subprocess, threading, torch
        done = []
        thread = threading.Thread(target=lambda: done.append(torch.ones(3) @ torch.ones(3)))
        thread.start()
        thread.join()
        child = os.fork()
        if child == 0:
            os._exit(7)
        assert os.waitpid(child, 0)[1] >> 8 == 7 and done == [torch.tensor(3.0)]
        assert subprocess.run(["true"]).returncode == 0
        """
    )
    result = grade_source(EX1, at_import + solution(module, EX1))
    assert result.complete, failed_messages(result)
    assert result.isolation["syscall_filter"].startswith("seccomp")


# A grader with a secret in its session keyring, and a runner trying to read it: without the
# filter (so the keyring is what keeps it), then with every level in force.
KEYRING_DRIVER = textwrap.dedent(
    """
    import ctypes, json, sys
    from grader.confined.sandbox import Limits
    from grader.zygote import RunnerSpec, Zygote

    SYS = json.loads(sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall(SYS["keyctl"], 1, b"course-test")  # a session keyring of this test's own
    key = libc.syscall(SYS["add_key"], b"user", b"course-secret", b"hunter2", 7, -3)
    ours = libc.syscall(SYS["keyctl"], 0, -3, 0)
    probe = f'''
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(64)
    got = libc.syscall({SYS["keyctl"]}, 11, {key}, buf, 64)
    secret = buf.raw[:got] if got > 0 else ctypes.get_errno()
    mine = libc.syscall({SYS["keyctl"]}, 0, -3, 0)
    inside = libc.syscall({SYS["keyctl"]}, 11, -3, None, 0)
    raise RuntimeError(repr([secret, mine, inside]))
    '''.replace("\\n    ", "\\n")
    zygote = Zygote.start()
    seen = []
    specs = [RunnerSpec("x", (), Limits(), syscall_filter=False), RunnerSpec("x", (), Limits())]
    for spec in specs:
        runner = zygote.spawn(spec)
        iso = runner.hello(60)
        load = {"op": "load", "source": probe, "filename": "k.py", "module": "k"}
        reply = runner.request(load, 30)
        seen.append([iso["own_keyring"], reply["error"]["message"]])
        runner.close()
    zygote.close()
    print(json.dumps({"key": key, "ours": ours, "seen": seen}))
    """
)


@known_machine
def test_the_runner_cannot_read_the_graders_keys():
    run = subprocess.run(
        [sys.executable, "-c", KEYRING_DRIVER, json.dumps(SYS)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert found["key"] > 0 and found["ours"] > 0
    (own, unfiltered), (own_too, filtered) = found["seen"]
    secret, mine, inside = ast.literal_eval(unfiltered)
    assert own and secret in (errno.EACCES, errno.ENOKEY)  # not b"hunter2"
    assert mine > 0 and mine != found["ours"] and inside == 0  # a keyring of its own, empty
    assert own_too and ast.literal_eval(filtered)[0] == errno.EPERM
    assert "hunter2" not in run.stdout
