"""The warm parent of every runner: a fresh `python -I` with a scrubbed environment that
imports torch once, runs no torch op, and forks a confined runner on each request.

Checker side: `Zygote.start()` and `Zygote.spawn()`, which return a `RunnerProcess`.
Zygote side: `serve()`; for each runner it makes a resource group (grader/confined/cgroups.py)
and forks a supervisor (its own session, new namespaces) whose only child is the runner (PID 1
of its PID namespace, so whatever it starts dies with it), in that group.

Everything dies with the grader, whatever kills it: the zygote and each supervisor get a
signal when their parent dies, and on it kill every group (the zygote) or their runner and
what it left (a supervisor) before they go; the runner gets SIGKILL when its supervisor dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

from courseware.errors import CourseError
from grader.confined import channel
from grader.confined.cgroups import Base, ResourceGroup
from grader.confined.limits import Limits

STATUS = struct.Struct("!iii")  # (runner pid, wait status, OOM kills) records on the status pipe
SIZE = struct.Struct("!I")  # the length of the zygote's answer to a spawn request
HELLO_SECONDS = 30.0  # a runner's confinement, before any learner code: generous
SUPERVISOR_SECONDS = 3.0  # for supervisors to kill what their runners left, before the zygote goes
# A call's time limit counts the CPU its runner's group used (the learner's own work, whatever
# the machine's load); where the wall clock passes this much longer, the call ends anyway.
WALL_FACTOR, WALL_EXTRA = 3.0, 10.0
# Levels a test (or a kernel that misbehaves) can leave out, e.g. COURSE_SANDBOX_WITHOUT=cgroups
WITHOUT = "COURSE_SANDBOX_WITHOUT"
LEVELS = {"namespaces": "namespaces", "cgroups": "cgroups", "seccomp": "syscall_filter"}
# What the checker accepts of a reply's text, whatever the runner sends: the runner itself cuts
# each message and traceback at 4,000 characters, so only a forged reply comes near these.
MAX_REPLY_TEXT = 8000  # characters of any one string in a reply
MAX_REPLY_TEXT_TOTAL = 256_000  # characters of all its strings together
ERROR_FIELDS = {"type": str, "message": str, "traceback": str, "code": str, "line": int}
# How a runner that ends by itself says why (grader.confined.runner's exit codes), in words.
EXITS = {
    70: "the runner could not confine itself (the grader's failure)",
    71: "the runner lost its channel to the grader: your code closed or replaced one of the "
    "runner's file descriptors (such as 3)",
    72: "the runner was interrupted between two calls of your code: a thread or signal "
    "handler of yours raised an exception there",
    73: "the runner's supervisor died while the runner confined itself (the grader's failure)",
}
# How a runner killed by a signal ended, in words; the faults of native code are crashes.
# Windows lacks most of these signals: only those the system has are named.
_CRASH_NAMES = ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT")
CRASHES = {getattr(signal, name) for name in _CRASH_NAMES if hasattr(signal, name)}
_KILL_REASONS = {
    "SIGABRT": " (a crash in native code, or os.abort())",
    "SIGKILL": " (often: it used more memory than allowed)",
    "SIGXCPU": " (it used up its CPU time)",
    "SIGXFSZ": " (it wrote a file larger than allowed)",
}
KILLED_BY = {
    **dict.fromkeys(CRASHES, " (a crash in native code)"),
    **{getattr(signal, n): why for n, why in _KILL_REASONS.items() if hasattr(signal, n)},
}
# One thread per runner, and no thread pools alive in the zygote when it forks.
THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class RunnerSpec:
    """What a runner is for and how it is confined."""

    exercise: str
    hidden: tuple[str, ...]
    limits: Limits
    cuda: bool = False
    secrets: tuple[str, ...] = ()  # files it must not read even where no view hides them
    namespaces: bool = True  # False only to exercise the fallback of kernels that refuse them
    cgroups: bool = True  # False: no resource group (as where no cgroup is writable)
    syscall_filter: bool = True  # False: no seccomp filter (as where libseccomp is missing)


class UnknownLevel(CourseError):
    """COURSE_SANDBOX_WITHOUT names a level that does not exist."""


def left_out() -> list[str]:
    """The levels COURSE_SANDBOX_WITHOUT leaves out (comma-separated: namespaces, cgroups,
    seccomp), so that the fallbacks can be exercised from the command line as they would run
    on a kernel without them. Raises UnknownLevel for a word that names none."""
    words = os.environ.get(WITHOUT, "").replace(",", " ").split()
    if unknown := [w for w in words if w not in LEVELS]:
        raise UnknownLevel(
            f"{WITHOUT}={os.environ[WITHOUT]}: unknown level {unknown[0]!r}; "
            f"use any of {', '.join(LEVELS)}, separated by commas, or unset it"
        )
    return words


def forced(spec: RunnerSpec) -> RunnerSpec:
    """`spec` without the levels COURSE_SANDBOX_WITHOUT leaves out."""
    return replace(spec, **{LEVELS[w]: False for w in left_out()})


class RunnerDied(Exception):
    """The runner ended without answering; `how` says how, in words."""

    def __init__(self, how: str, output: str) -> None:
        super().__init__(how)
        self.how, self.output = how, output


class MemoryExceeded(Exception):
    """The runner's memory went over its cap: its resident set (polled where no rlimit
    applies), or its whole group (the kernel killed a process of it)."""


class RunnerTimeout(Exception):
    """The runner did not answer within the time allowed; it has been killed. `clock` says
    which time ran out: "cpu" (its group's CPU time) or "wall"."""

    def __init__(self, seconds: float = 0.0, clock: str = "wall") -> None:
        super().__init__(f"{seconds:g} s ({clock})")
        self.seconds, self.clock = seconds, clock


class CpuTimeUsed(Exception):
    """The runner's group used up the CPU time of the call (raised while waiting)."""


@dataclass
class CallClock:
    """The time one call may take: the CPU time its runner's group uses, where that can be
    read (the learner's own work: the machine's load costs nothing), with the wall clock as a
    generous backstop; only the wall clock where there is no group."""

    group: ResourceGroup | None
    seconds: float
    wall_start: float = field(default_factory=time.monotonic)
    cpu_start: float | None = None

    def __post_init__(self) -> None:
        self.cpu_start = self.group.cpu_seconds() if self.group else None

    def wall_limit(self) -> float:
        """Seconds of wall clock the call may take from its start."""
        if self.cpu_start is None:
            return self.seconds
        return WALL_FACTOR * self.seconds + WALL_EXTRA

    def check(self) -> None:
        """Raise CpuTimeUsed once the group has used the call's CPU time."""
        if self.cpu_start is not None and self._cpu() > self.seconds:
            raise CpuTimeUsed()

    def wall_kind(self) -> str:
        """Which wall clock ran out: the limit itself, or the backstop of a CPU limit."""
        return "wall" if self.cpu_start is None else "backstop"

    def spent(self) -> float:
        """What the call cost: CPU seconds where they are counted, else wall seconds."""
        return self._cpu() if self.cpu_start is not None else self.wall()

    def wall(self) -> float:
        return time.monotonic() - self.wall_start

    def _cpu(self) -> float:
        now = self.group.cpu_seconds()
        return 0.0 if now is None else now - self.cpu_start


class Zygote:
    """Checker-side handle of the zygote process."""

    def __init__(self, proc: subprocess.Popen, ctl: socket.socket) -> None:
        self.proc, self.ctl = proc, ctl
        self.spawned: list[int] = []  # supervisor pids, which name the runners' uids
        self._isolation: dict[tuple, dict] = {}  # by (limits, namespaces, cgroups, filter)

    @classmethod
    def start(cls) -> Zygote:
        """Start the zygote; it imports torch in parallel with whatever the caller does next."""
        return cls.start_shared(1)[0]

    @classmethod
    def start_shared(cls, clients: int) -> list[Zygote]:
        """One zygote for `clients` handles (a batch's workers), each with a socket of its
        own: the whole class pays for one import of torch. Where the Linux sandbox cannot
        run, or COURSE_SANDBOX=portable, the portable backend's handles (grader/backend.py)."""
        from grader import backend

        if cls is Zygote and backend.chosen() == "portable":
            from grader.portable import PortableZygote

            return PortableZygote.start_shared(clients)
        left_out()  # a mistyped COURSE_SANDBOX_WITHOUT stops us before anything starts
        pairs = [socket.socketpair() for _ in range(clients)]
        theirs = [t.fileno() for _, t in pairs]
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **THREADS}
        argv = [sys.executable, "-I", "-m", "grader.zygote", str(os.getpid()), *map(str, theirs)]
        proc = subprocess.Popen(
            argv,
            pass_fds=theirs,
            env=env,
            cwd="/",
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _, t in pairs:
            t.close()
        return [cls(proc, ours) for ours, _ in pairs]

    def spawn(self, spec: RunnerSpec) -> RunnerProcess:
        """Fork a confined runner (without the levels COURSE_SANDBOX_WITHOUT leaves out);
        returns at once: `RunnerProcess.hello` waits for the runner to be ready."""
        spec = forced(spec)
        chan_ours, chan_theirs = socket.socketpair()
        status_r, status_w = os.pipe()
        output = tempfile.TemporaryFile(prefix="course-runner-out-")  # noqa: SIM115 (runner's)
        payload = json.dumps({**asdict(spec), "limits": asdict(spec.limits)}).encode()
        fds = [chan_theirs.fileno(), status_w, output.fileno()]
        try:
            socket.send_fds(self.ctl, [payload], fds)
            (size,) = SIZE.unpack(_recv_exactly(self.ctl, SIZE.size))
            answer = json.loads(_recv_exactly(self.ctl, size))
        except OSError as exc:
            raise RunnerDied(f"the grader could not start a runner ({exc})", "") from None
        finally:
            chan_theirs.close()
            os.close(status_w)
        self.spawned.append(answer["pid"])
        group = ResourceGroup.from_json(answer["group"]) if answer["group"] else None
        return RunnerProcess(answer["pid"], chan_ours, status_r, output, spec, group)

    def isolation(self, limits: Limits, namespaces: bool = True) -> dict:
        """The isolation levels a runner gets here (its hello), found once per handle by a
        runner that runs no learner code."""
        spec = forced(RunnerSpec("isolation", (), limits, namespaces=namespaces))
        key = (spec.limits, spec.namespaces, spec.cgroups, spec.syscall_filter)
        if key not in self._isolation:
            runner = self.spawn(spec)
            try:
                self._isolation[key] = runner.hello(HELLO_SECONDS)
            finally:
                runner.close()
        return self._isolation[key]

    def close(self) -> None:
        """Stop the zygote, for every handle it serves, once its supervisors have cleaned up
        after their runners (killed already): SIGTERM, on which it removes its resource groups
        (killing whatever is still in one), then SIGKILL if it lingers."""
        from grader.confined.sandbox import children

        self.ctl.close()
        deadline = time.monotonic() + SUPERVISOR_SECONDS
        while children(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.005)
        self.proc.terminate()
        try:
            self.proc.wait(SUPERVISOR_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def malformed(reply: object) -> str:
    """Why `reply` is not what any runner of this grader sends, or "": a dict whose "error",
    if any, is an exception as the runner describes one, and whose strings are short. The
    checker reads no reply that fails this, so no forged one can reach a message or a
    gradebook with megabytes of text or fields of the wrong type."""
    if type(reply) is not dict:
        return "not a mapping"
    if "error" in reply:
        error = reply["error"]
        if type(error) is not dict or not {"type", "message"} <= error.keys():
            return "an error that is not an exception's description"
        for key, value in error.items():
            if ERROR_FIELDS.get(key) is not type(value):
                return f"an error whose {key!r} is not what the runner sends"
    total, pending = 0, [reply]
    while pending:
        value = pending.pop()
        if type(value) is str:
            if len(value) > MAX_REPLY_TEXT:
                return f"a text of {len(value)} characters"
            total += len(value)
            if total > MAX_REPLY_TEXT_TOTAL:
                return f"more than {MAX_REPLY_TEXT_TOTAL} characters of text"
        elif type(value) is dict:
            pending += [*value.keys(), *value.values()]
        elif type(value) in (list, tuple):
            pending += value
    return ""


def ended_how(signum: int | None, code: int) -> str:
    """How a runner that ended by itself ended, in words: killed by `signum`, or exited
    with `code` (every backend's runner exits with grader.confined.runner's codes)."""
    if signum is not None:
        sig = signal.Signals(signum)
        why = KILLED_BY.get(sig, "")
        if sig in CRASHES:
            return f"the runner crashed: it was killed by {sig.name}{why}"
        return f"the runner was killed by {sig.name}{why}"
    return EXITS.get(code, f"the runner exited with code {code}")


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("the zygote went away")
        data += chunk
    return data


class RunnerProcess:
    """Checker-side handle of one runner: send a request, get plain data back or an
    exception that says how the runner failed."""

    def __init__(
        self,
        supervisor: int,
        chan: socket.socket,
        status_fd: int,
        output,
        spec: RunnerSpec,
        group: ResourceGroup | None,
    ) -> None:
        self.backend = "linux"  # which backend confines it (grader/backend.py)
        self.supervisor, self.chan, self.status_fd = supervisor, chan, status_fd
        self.output, self.group, self.memory_bytes = output, group, spec.limits.memory_bytes
        self.memory_cap = self.memory_bytes if spec.cuda else None  # no RLIMIT_AS there: poll
        self._records = b""  # what the supervisor reported so far on the status pipe
        self.runner_pid: int | None = None
        self.oom_kills = 0  # as the supervisor reports them once the runner has ended
        self.alive = True
        self.requests = 0  # the number of the last request sent; its reply must name it
        self.spent = 0.0  # what the last request cost: CPU seconds of the group, else wall

    def request(
        self, message: dict, timeout: float, while_waiting: Callable[[], None] | None = None
    ) -> dict:
        """Send `message` and return the reply within `timeout` seconds (see CallClock).
        `while_waiting` is checker work done while the runner works (on another core); the
        runner's time still counts from the send."""
        if not self.alive:
            raise RunnerDied("the runner had already stopped", self.output_tail())
        self.requests += 1
        clock = CallClock(self.group, timeout)  # started again once the request is sent
        try:
            if self._pending():  # a frame that answers nothing: written after the last reply
                self._unasked()
            channel.send(self.chan, {**message, "id": self.requests})
            clock = CallClock(self.group, timeout)
            if while_waiting is not None:
                self._meanwhile(while_waiting)
            left = max(clock.wall_limit() - clock.wall(), 0.1)
            envelope = channel.recv(self.chan, timeout=left, watch=self._watcher(clock))
        except MemoryExceeded as exc:
            self.kill()
            raise RunnerDied(str(exc), self.output_tail()) from None
        except CpuTimeUsed:
            self.kill()
            raise RunnerTimeout(timeout, "cpu") from None
        except channel.ChannelTimeout:
            self.kill()
            raise RunnerTimeout(clock.wall_limit(), clock.wall_kind()) from None
        except (channel.ChannelClosed, BrokenPipeError, ConnectionResetError):
            how = self._ended()
            raise RunnerDied(how, self.output_tail()) from None
        except channel.BadFrame as exc:
            self.kill()
            raise RunnerDied(
                f"the runner sent something that is not plain data: {exc}", self.output_tail()
            ) from None
        finally:
            self.spent = clock.spent()
        if type(envelope) is not dict or envelope.keys() != {"id", "reply"}:
            self._unasked()
        if type(envelope["id"]) is not int or envelope["id"] != self.requests:
            self._unasked()
        reply = envelope["reply"]
        if why := malformed(reply):
            self.kill()
            raise RunnerDied(f"the runner sent a malformed reply ({why})", self.output_tail())
        return reply

    def _pending(self) -> bool:
        """Whether bytes wait on the channel (not merely its end, when the runner is gone)."""
        if not select.select([self.chan], [], [], 0)[0]:
            return False
        try:  # readable, so this does not block (no MSG_DONTWAIT on Windows)
            return bool(self.chan.recv(1, socket.MSG_PEEK))
        except OSError:
            return False

    def _unasked(self) -> None:
        """A frame on the channel that is no reply to the request in flight: learner code
        wrote on the grader's socket (or the runner answered twice). Nothing it says is read."""
        self.kill()
        raise RunnerDied(
            "something in the runner wrote on the grader's channel a message that answers no "
            "request (your code must not use the runner's sockets or file descriptors)",
            self.output_tail(),
        )

    def _meanwhile(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException:
            self.kill()  # its reply would answer the next request: start afresh
            raise

    def _watcher(self, clock: CallClock) -> Callable[[], None] | None:
        """What to check while waiting for a reply: the group's CPU time and the kernel's
        verdict on its memory, and the resident set where no rlimit caps it (CUDA)."""
        if self.group is None and not self.memory_cap:
            return None

        def watch() -> None:
            clock.check()
            if self.group is not None and self.group.oom_kills():
                raise MemoryExceeded(self._over_memory())
            if self.memory_cap:
                self._watch_memory()

        return watch

    def _over_memory(self) -> str:
        return (
            "the runner was stopped: its processes together used more memory than the "
            f"{self.memory_bytes >> 20} MiB allowed (every process it starts counts)"
        )

    def _watch_memory(self) -> None:
        """Where no address-space limit can be set (CUDA), poll the runner's resident set."""
        rss = self._resident()
        if rss is not None and rss > self.memory_cap:
            raise MemoryExceeded(
                f"the runner was stopped: it used {rss >> 20} MiB of memory, "
                f"more than the {self.memory_cap >> 20} MiB allowed"
            )

    def _resident(self) -> int | None:
        """The runner's resident set in bytes, read from /proc (None while unknown)."""
        if self.runner_pid is None:
            self._status(wait=0)
        try:
            with open(f"/proc/{self.runner_pid}/status") as f:
                line = next(x for x in f if x.startswith("VmRSS:"))
        except (OSError, StopIteration, TypeError):
            return None
        return int(line.split()[1]) * 1024

    def hello(self, timeout: float) -> dict:
        """The first message, sent by trusted code before any learner code ran."""
        try:
            reply = channel.recv(self.chan, timeout=timeout)
        except channel.ChannelTimeout:
            self.kill()
            raise RunnerTimeout() from None
        except (channel.ChannelClosed, channel.BadFrame):
            raise RunnerDied(self._ended(), self.output_tail()) from None
        hello = reply.get("hello") if type(reply) is dict else None
        return {**(hello if type(hello) is dict else {}), "backend": self.backend}

    def _ended(self) -> str:
        """Wait briefly for the supervisor's report and say how the runner ended."""
        self.alive = False
        status = self._status(wait=2.0)
        self.kill()
        if status is None:
            return "the runner stopped without a word"
        if self.oom_kills:  # the kernel killed a process of its group: the runner, or a child
            return self._over_memory()
        if os.WIFSIGNALED(status):
            return ended_how(os.WTERMSIG(status), 0)
        return ended_how(None, os.WEXITSTATUS(status))

    def _status(self, wait: float) -> int | None:
        """The runner's wait status once its supervisor reports it (None before); learns the
        runner's pid from the first record, and its group's OOM kills from the second."""
        deadline = time.monotonic() + wait
        data = self._records
        while len(data) < 2 * STATUS.size:
            left = max(0.0, deadline - time.monotonic())
            if not select.select([self.status_fd], [], [], left)[0]:
                break
            chunk = os.read(self.status_fd, 2 * STATUS.size - len(data))
            if not chunk:
                break
            data += chunk
        self._records = data
        if len(data) >= STATUS.size:
            self.runner_pid = STATUS.unpack(data[: STATUS.size])[0]
        if len(data) == 2 * STATUS.size:
            _, status, self.oom_kills = STATUS.unpack(data[STATUS.size :])
            return status
        return None

    def kill(self) -> None:
        """Kill the runner and everything it started: its resource group at once where it
        has one; else the runner, PID 1 of its namespace, takes everything along, and where
        there is no namespace its supervisor, their subreaper, kills what is left. Before the
        runner's pid is known: the supervisor's process group, runner included."""
        self.alive = False
        if self.group is not None:
            self.group.kill()
        if self.runner_pid is None:
            self._status(wait=0)
        kill, pid = (os.kill, self.runner_pid) if self.runner_pid else (os.killpg, self.supervisor)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)

    def output_tail(self, limit: int = 2000) -> str:
        """The last `limit` bytes the runner printed (stdout and stderr together)."""
        try:
            size = os.fstat(self.output.fileno()).st_size
            self.output.seek(max(0, size - limit))
            return self.output.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def close(self) -> None:
        self.kill()
        self.chan.close()
        os.close(self.status_fd)
        self.output.close()


# ---------------------------------------------------------------- zygote side


def serve(ctls: list[socket.socket], parent: int) -> None:
    """Fork a supervisor for each spawn request, on any of `ctls`, until every client has
    closed its socket; `parent` is the grader, with which the zygote dies."""
    from grader.confined.preload import preload
    from grader.confined.sandbox import children, die_with_parent

    groups = _Groups()
    signal.signal(signal.SIGTERM, groups.leave)
    die_with_parent(parent, signal.SIGTERM)  # first: the grader may die while torch imports
    preload()  # before the first fork
    groups.make_base()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    live = list(ctls)
    while live:
        for ctl in select.select(live, [], [])[0]:
            try:
                payload, fds, _, _ = socket.recv_fds(ctl, 1 << 16, 3)
            except OSError:
                payload, fds = b"", []
            if not payload:
                live.remove(ctl)
                ctl.close()
                continue
            spec = json.loads(payload)
            spec["group"], spec["group_why"] = groups.new(spec)
            pid = os.fork()
            if pid == 0:
                for other in live:
                    other.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _supervise(spec, *fds, zygote=groups.owner)
            for fd in fds:
                os.close(fd)
            answer = json.dumps({"pid": pid, "group": spec["group"]}).encode()
            ctl.sendall(SIZE.pack(len(answer)) + answer)
    deadline = time.monotonic() + SUPERVISOR_SECONDS
    while children(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.005)
    groups.leave()


@dataclass
class _Groups:
    """The zygote's resource groups: its base in the cgroup hierarchies (None where none can
    be had, and why), from which each runner gets a group of its own."""

    base: Base | None = None
    why: str = "not made yet"
    made: int = 0
    owner: int = field(default_factory=os.getpid)

    def make_base(self) -> None:
        if sys.platform != "linux":
            self.why = "no cgroups on this system"
            return
        from grader.confined.cgroups import make_base

        self.base, self.why = make_base()

    def new(self, spec: dict) -> tuple[list | None, str]:
        """A group for the runner of `spec` (as JSON), or None and why not."""
        if not spec["cgroups"]:
            return None, "not asked for"
        if self.base is None:
            return None, self.why
        self.made += 1
        limits = Limits(**spec["limits"])
        caps = (limits.memory_bytes, limits.processes, limits.cpus)
        try:
            return self.base.new_group(f"runner-{self.made}", *caps).to_json(), ""
        except OSError as exc:
            return None, f"the group could not be made: {exc.strerror or exc}"

    def leave(self, *_) -> None:
        """On SIGTERM (the grader closed the zygote, or died) and at the end: kill what is
        left in any group, remove the groups, and go."""
        if os.getpid() == self.owner and self.base is not None:
            self.base.remove()
        os._exit(0)


@dataclass
class _Supervision:
    """What a supervisor must clean up: its runner (while not reaped) and its group."""

    group: ResourceGroup | None
    runner: int = 0

    def leave(self, *_) -> None:
        """On SIGTERM (the zygote died): kill the runner and everything it started, go."""
        if self.runner:
            with contextlib.suppress(OSError):
                os.kill(self.runner, signal.SIGKILL)
        self.clean_up()
        os._exit(0)

    def clean_up(self) -> None:
        """Kill what the runner left (its group at once; without a PID namespace, the
        orphans this supervisor adopted), then remove the group."""
        from grader.confined.sandbox import kill_descendants

        if self.group is not None:
            self.group.kill()
        kill_descendants()
        if self.group is not None:
            self.group.remove()


def _supervise(spec: dict, chan_fd: int, status_fd: int, out_fd: int, zygote: int) -> None:
    """The supervisor: own session, new namespaces, then fork the runner and report its
    pid and, when it ends, its wait status and its group's OOM kills. Never returns."""
    from grader.confined import runner
    from grader.confined.sandbox import (
        Isolation,
        adopt_orphans,
        die_with_parent,
        process_allowance,
        runner_uid,
        unshare_namespaces,
    )

    watch = _Supervision(ResourceGroup.from_json(spec["group"]) if spec["group"] else None)
    signal.signal(signal.SIGTERM, watch.leave)  # first: the zygote's handler is not ours
    try:
        os.setsid()
        die_with_parent(zygote, signal.SIGTERM)
        adopt_orphans()
        iso = Isolation(own_session=True)
        spec["uid"] = runner_uid(os.getpid())  # the host pid: unique among live runners
        spec["processes"] = process_allowance(Limits(**spec["limits"]))  # host view, so first
        if spec["namespaces"]:
            unshare_namespaces(iso)
        else:
            iso.notes.append("no namespaces (not asked for)")
        lifeline, holder = os.pipe()  # the runner sees its end once this process is gone
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.close(status_fd)
            os.close(holder)
            runner.main(spec, chan_fd, out_fd, iso, lifeline)
        watch.runner = pid
        for fd in (lifeline, chan_fd, out_fd):
            os.close(fd)
        os.write(status_fd, STATUS.pack(pid, 0, 0))
        _, status = os.waitpid(pid, 0)
        watch.runner = 0  # reaped: its pid may be another process's soon
        oom = watch.group.oom_kills() if watch.group else 0
        with contextlib.suppress(OSError):  # the checker may have closed its end already
            os.write(status_fd, STATUS.pack(pid, status, oom))
        watch.clean_up()
    finally:
        os._exit(0)


if __name__ == "__main__":
    serve([socket.socket(fileno=int(fd)) for fd in sys.argv[2:]], parent=int(sys.argv[1]))
