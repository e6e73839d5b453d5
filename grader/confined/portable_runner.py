"""The runner half of the portable backend (grader/portable.py starts it): a clean
`python -I -m grader.confined.portable_runner HOST PORT GRADER_PID` process that connects back
to the checker, proves itself with its token, imports what every runner needs (torch among
it) and waits for its spec; then applies the limits this system offers, says hello and serves
the same channel and probes as the Linux runner. It dies with its grader.

Runner side: it imports nothing of the checker (the import-linter contract of grader.confined).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time

from grader.confined import channel
from grader.confined.limits import Limits
from grader.confined.preload import preload

TOKEN = "COURSE_RUNNER_TOKEN"  # in every runner's environment: what the grader's sweep looks for
PARENT_POLL = 0.5  # how often a runner looks for its grader (it dies with it)
END_PASSES = 20  # sweeps of what a runner started, on its way out (a fork bomb forks on)
MISSING = [  # what the Linux sandbox has and this backend does not, in words (as it says)
    "a PID namespace",
    "a network namespace",
    "the allowlist filesystem view",
    "no privileges (another uid, or no capabilities)",
    "a resource group for its whole tree (cgroup)",
    "a session keyring of its own",
    "a system-call filter (seccomp)",
]
NOTE = "portable backend: limits and the process tree are watched by the grader (psutil)"
ORPHANS = "orphans it leaves are adopted by the runner, so they end with it (a subreaper)"


def runner_main(host: str, port: int, grader_pid: int) -> None:
    """Connect, prove the token, import torch, wait for a spec, confine, serve. Never returns."""
    from grader.confined import runner

    chan = socket.create_connection((host, port))
    channel.send(chan, {"token": os.environ.get(TOKEN, "")})
    _die_with(grader_pid)
    preload()
    try:
        message = channel.recv(chan)
    except (channel.ChannelClosed, channel.BadFrame, OSError):
        os._exit(0)  # the grader closed the pool: never used
    spec = message["spec"]
    try:
        hello = _confine(spec)
    except BaseException:
        import traceback

        sys.stderr.write(traceback.format_exc()[-runner.MAX_TEXT :])
        sys.stderr.flush()
        os._exit(runner.EXIT_SETUP_FAILED)
    runner.answer(chan, hello, before_exit=end_descendants)


def _die_with(grader_pid: int) -> None:
    """A daemon thread that ends this runner (and what it started) once the grader is gone."""
    import psutil

    try:
        grader = psutil.Process(grader_pid)
    except psutil.Error:
        os._exit(0)

    def watch() -> None:
        while grader.is_running():
            time.sleep(PARENT_POLL)
        end_descendants()
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="course-lifeline").start()


def carriers(token: str, since: float, skip: set[int]) -> list:
    """Live processes created since `since` (seconds since the epoch) that carry `token` in
    their environment: what a runner started, orphans and new sessions included."""
    import psutil

    found = []
    for proc in psutil.process_iter(["create_time"]):
        if proc.pid in skip or (proc.info["create_time"] or 0) < since - 1:
            continue
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(TOKEN) == token and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found


def end_descendants() -> None:
    """Stop, then kill, what this runner started (its children, and every process carrying
    its token), until none is left: on its way out, when its grader hangs up or dies."""
    import psutil

    me = psutil.Process()
    token, since = os.environ.get(TOKEN, ""), me.create_time()
    for _ in range(END_PASSES):
        found = me.children(recursive=True) + carriers(token, since, {me.pid})
        if not found:
            return
        for act in ("suspend", "kill"):
            for proc in found:
                with contextlib.suppress(psutil.Error):
                    getattr(proc, act)()


def _confine(spec: dict) -> dict:
    """The limits this system offers, sys.path without the working folder; the hello."""
    import torch

    limits = Limits(**spec["limits"])
    notes = [NOTE, *_rlimits(limits, spec["cuda"]), *_adopt_orphans()]
    torch.set_num_threads(1)
    work = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", work)]
    exposed = [p for p in spec["secrets"] if os.access(p, os.R_OK)]
    missing = list(MISSING)
    if exposed:
        missing.append(f"the references out of reach ({len(exposed)} readable)")
    return {
        "backend": "portable",
        "limits": True,
        "own_session": True,
        "environment_scrubbed": True,
        "filesystem_view": f"no (a working folder of its own: {work})",
        "exposed": exposed,
        "notes": notes,
        "missing": missing,
    }


def _adopt_orphans() -> list[str]:
    """Linux: make this runner the subreaper of what it starts, so that a double fork into a
    new session without the token stays in the tree the grader kills (elsewhere: the sweep)."""
    try:
        from grader.confined.sandbox import adopt_orphans  # needs `resource` and prctl

        adopt_orphans()
    except (ImportError, AttributeError, OSError):  # Windows, macOS: no such call
        return []
    return [ORPHANS]


def _rlimits(limits: Limits, cuda: bool) -> list[str]:
    """Set the rlimits this system has; say what is watched instead. macOS ignores RLIMIT_AS
    and Windows has no rlimits: there the checker polls the resident memory of the tree."""
    try:
        import resource
    except ImportError:
        return ["no rlimits on this system: memory, time and output are polled by the grader"]
    caps = {
        resource.RLIMIT_CPU: limits.cpu_seconds,
        resource.RLIMIT_FSIZE: limits.file_bytes,
        resource.RLIMIT_NOFILE: limits.open_files,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_NPROC: _processes_now() + limits.processes,
    }
    if sys.platform == "linux" and not cuda:
        caps[resource.RLIMIT_AS] = limits.memory_bytes
    for which, value in caps.items():
        hard = resource.getrlimit(which)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (value, value))
    return [] if resource.RLIMIT_AS in caps else ["memory: resident size polled by the grader"]


def _processes_now() -> int:
    """Processes and threads this user runs now: RLIMIT_NPROC counts them all."""
    import psutil

    me = psutil.Process().username()
    count = 0
    for proc in psutil.process_iter(["username", "num_threads"]):
        if proc.info["username"] == me:
            count += proc.info["num_threads"] or 1
    return count


if __name__ == "__main__":
    runner_main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
