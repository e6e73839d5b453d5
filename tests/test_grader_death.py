"""The runner dies with its grader, whatever kills the grader and whatever the runner is doing:
no learner code outlives the process that grades it. Each test kills a grader it started and
looks for the processes its learner code named (never at the host's other processes)."""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import (
    BATCH,
    REPO,
    course_watch,
    left_tagged,
    read_until,
    tag_code,
    tagged,
    wait_for_tagged,
)

# A grader of its own: one fully confined runner, and one without namespaces or a resource
# group (the fallback); each has loaded code that named it and started a child in a session of
# its own. "during": both are then in a call that sleeps (and names itself TAG + "c").
DRIVER = textwrap.dedent(
    """
    import sys, threading, time
    from grader.confined.sandbox import Limits
    from grader.zygote import RunnerSpec, Zygote
    from tests.helpers import tag_code

    tag, state = sys.argv[1:]
    daemon = "import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n    time.sleep(600)\\n"
    zygote = Zygote.start()
    runners = []
    for flags in ({}, {"namespaces": False, "cgroups": False}):
        runner = zygote.spawn(RunnerSpec("01_lstm_network", (), Limits(), **flags))
        runner.hello(60)
        load = {"op": "load", "source": tag_code(tag) + daemon, "filename": "f.py", "module": "f"}
        runner.request(load, 60)
        runners.append(runner)
    if state == "during":
        sleep = tag_code(tag + "c") + "import time\\ntime.sleep(600)\\n"
        load = {"op": "load", "source": sleep, "filename": "g.py", "module": "g"}
        for runner in runners:
            threading.Thread(target=runner.request, args=(load, 600), daemon=True).start()
    print("ready", flush=True)
    time.sleep(600)
    """
)


def _new_tag() -> str:
    return "crt" + secrets.token_hex(4)  # 11 characters: a comm holds 15


@pytest.mark.parametrize("state", ["between", "during"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_no_runner_outlives_its_grader(sig, state):
    tag = _new_tag()
    grader = subprocess.Popen(
        [sys.executable, "-c", DRIVER, tag, state],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert grader.stdout.readline() == "ready\n", grader.stderr.read()
        assert len(tagged(tag)) == 4  # two runners, and a child of each in its own session
        if state == "during":
            assert wait_for_tagged(tag + "c") and _both_in_the_call(tag)
        grader.send_signal(sig)
        assert grader.wait(30) == -sig
    finally:
        grader.kill()
        grader.wait()
    assert left_tagged(tag) == []


def _both_in_the_call(tag: str) -> bool:
    left = 60
    while len(tagged(tag + "c")) < 2 and left:
        left -= 1
        wait_for_tagged(tag + "c", 1)
    return len(tagged(tag + "c")) == 2


@pytest.mark.parametrize(
    ("batch", "sig"),
    [
        (False, signal.SIGKILL),
        (True, signal.SIGTERM),
    ],
    ids=["course grade, SIGKILL", "course grade --batch, SIGTERM"],
)
def test_no_runner_outlives_the_course_command(tmp_path, batch, sig):
    """From the user's seat: the command is killed while a learner's import sleeps."""
    tag = _new_tag()
    learner = tmp_path / "subs" / "ada"
    learner.mkdir(parents=True)
    sleeper = tag_code(tag) + "import time\ntime.sleep(600)\n"
    (learner / "lstm_network.py").write_text(sleeper)
    argv = [sys.executable, "-m", "course", "grade", "--exercise", "01_lstm_network"]
    argv += ["--timeout", "600"]
    if batch:
        argv += [str(tmp_path / "subs"), *BATCH, "--gradebook", str(tmp_path / "b.sqlite")]
    else:
        argv += [str(learner / "lstm_network.py")]
    command = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for_tagged(tag), "the learner's import should be running"
        command.send_signal(sig)
        command.wait(30)
    finally:
        command.kill()
        command.wait()
    assert left_tagged(tag) == []


def test_no_runner_outlives_course_watch(tmp_path):
    """The terminal of `course watch` closes (SIGHUP) while a saved file's import sleeps."""
    init = [sys.executable, "-m", "course", "init"]
    subprocess.run(init, cwd=tmp_path, check=True, capture_output=True)
    workspace = tmp_path / "lstm-course"
    tag = _new_tag()
    watch = course_watch(workspace, "01_lstm_network")
    try:
        read_until(watch, "01_lstm_network")
        path = workspace / "exercises/01_lstm_network/lstm_network.py"
        path.write_text(tag_code(tag) + "import time\ntime.sleep(600)\n")
        assert wait_for_tagged(tag), "the saved file's import should be running"
        watch.send_signal(signal.SIGHUP)
        watch.wait(30)
    finally:
        watch.kill()
        watch.wait()
    assert left_tagged(tag) == []
