"""The portable runner backend: macOS, Windows, and Linux where the sandbox cannot run.

Each runner is a separate `python -I -m grader.confined.portable_runner` process (its runner
half, on the runner side of the trust boundary) started cleanly (a scrubbed environment, a
working folder of its own, a session or process group of its own) that connects back to the
checker on the loopback interface, proves itself with a token, imports torch and waits: a
small pool of them is kept started, so a learner's file finds torch imported already (fork
is unsafe on macOS once torch has started threads). On a spawn request it applies the limits
this system offers (rlimits where they work; not RLIMIT_AS on macOS, which ignores it), says
hello and serves the same channel and probes as the Linux runner.

The checker watches the rest with psutil: the CPU time and resident memory of the runner's
whole tree, the size of its output; and kills the whole tree at the end, its process group,
its descendants and any process carrying its environment token (orphans included).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

from grader.confined import channel
from grader.confined.limits import Limits
from grader.confined.portable_runner import TOKEN, carriers
from grader.zygote import (
    HELLO_SECONDS,
    THREADS,
    RunnerDied,
    RunnerProcess,
    RunnerSpec,
    Zygote,
    ended_how,
    forced,
)

RUNNER = "grader.confined.portable_runner"  # the module a runner process runs
POOL = 2  # runners started with a handle (torch imported): exercises 1-2 need no wait
REFILL = 1  # runners kept waiting after that: the next save's, not a whole grade's spares
KILL_SECONDS = 2.0  # for the sweep to find nothing left
SCAN_SECONDS = 0.02  # a scan of the runner's tree is reused this long (the watch's checks)


@dataclass
class ProcessTree:
    """A runner and everything it started, found through psutil: what a resource group is
    to the Linux backend (the same `cpu_seconds`, `oom_kills` and `kill`)."""

    pid: int
    token: str
    started: float = 0.0  # the runner's creation time: older processes are never swept
    # Every descendant seen while watching, by pid: killed at the end even once it has left
    # the tree (a daemon in a session of its own) and dropped the token (a new environment).
    seen: dict = field(default_factory=dict)
    job: JobObject | None = None  # Windows: the tree's Job Object, killed first
    _scanned: tuple[float, list] = (-1.0, [])  # one scan serves a whole watch (CPU, memory...)

    def processes(self, fresh: bool = False) -> list:
        """The runner and its live descendants (zombies are dead already), scanned at most
        once per SCAN_SECONDS unless `fresh`."""
        import psutil

        when, found = self._scanned
        if not fresh and time.monotonic() - when < SCAN_SECONDS:
            return found
        try:
            root = psutil.Process(self.pid)
            found = [p for p in [root, *root.children(recursive=True)] if _alive(p)]
        except psutil.Error:
            found = []
        self._scanned = (time.monotonic(), found)
        self.seen.update((p.pid, p) for p in found)
        return found

    def cpu_seconds(self) -> float | None:
        """User and system CPU seconds of the live tree."""
        total = 0.0
        for proc in self.processes():
            with contextlib.suppress(Exception):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def oom_kills(self) -> int:
        """No kernel verdict here: memory is polled (`resident`)."""
        return 0

    def resident(self) -> int | None:
        """Bytes resident in the live tree, None once it is gone."""
        procs = self.processes()
        if not procs:
            return None
        total = 0
        for proc in procs:
            with contextlib.suppress(Exception):
                total += proc.memory_info().rss
        return total

    def kill(self) -> None:
        """Stop, then kill, the tree, its process group and every process carrying the token,
        until none is left: stopped processes cannot fork, so a fork bomb ends too."""
        import psutil

        deadline = time.monotonic() + KILL_SECONDS
        if self.job is not None:
            self.job.kill()
        while True:
            self._kill_group()
            found = self._members()
            if not found or time.monotonic() > deadline:
                return
            for act in ("suspend", "kill"):
                for proc in found:
                    with contextlib.suppress(psutil.Error):
                        getattr(proc, act)()
            time.sleep(0.01)

    def _members(self) -> list:

        members = {p.pid: p for p in self.processes(fresh=True)}
        members |= {pid: p for pid, p in self.seen.items() if p.is_running() and _alive(p)}
        skip = {*members, os.getpid()}
        members |= {p.pid: p for p in carriers(self.token, self.started, skip)}
        return list(members.values())

    def _kill_group(self) -> None:
        """POSIX: the runner leads a session and group of its own; kill that group at once."""
        if hasattr(os, "killpg"):
            with contextlib.suppress(OSError):
                os.killpg(self.pid, _SIGKILL)


_SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)  # Windows: TerminateProcess either way
WINDOWS = sys.platform == "win32"  # where a Job Object holds each runner's tree
JOB_NOTE = "a Windows Job Object holds its tree: memory and processes capped, killed as one"


@dataclass
class JobObject:
    """Windows: a Job Object (pywin32's win32job) holding a runner and all it starts, what a
    resource group is on Linux: memory and process count capped for the whole tree, killed
    as one, and killed when the grader's handle closes, whatever ends the grader."""

    handle: object

    @classmethod
    def around(cls, pid: int) -> JobObject | None:
        """A job holding process `pid` (killed when it closes); None off Windows or without
        pywin32, where polling and the sweep stand in."""
        if not WINDOWS:
            return None
        try:
            import win32api
            import win32con
            import win32job
        except ImportError:
            return None
        job = cls(win32job.CreateJobObject(None, ""))
        job._set(win32job.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE)
        access = win32con.PROCESS_SET_QUOTA | win32con.PROCESS_TERMINATE
        win32job.AssignProcessToJobObject(job.handle, win32api.OpenProcess(access, False, pid))
        return job

    def limit(self, limits: Limits, cuda: bool) -> None:
        """Cap the number of the job's processes and, unless CUDA's driver commits memory of
        its own (as RLIMIT_AS is left off on Linux then), their memory together."""
        import win32job

        self._set(win32job.JOB_OBJECT_LIMIT_ACTIVE_PROCESS, ActiveProcessLimit=limits.processes)
        if not cuda:
            self._set(win32job.JOB_OBJECT_LIMIT_JOB_MEMORY, JobMemoryLimit=limits.memory_bytes)

    def _set(self, flags: int, **values: int) -> None:
        import win32job

        kind = win32job.JobObjectExtendedLimitInformation
        info = win32job.QueryInformationJobObject(self.handle, kind)
        basic = info["BasicLimitInformation"]
        basic["LimitFlags"] |= flags
        for key, value in values.items():
            (basic if key in basic else info)[key] = value
        win32job.SetInformationJobObject(self.handle, kind, info)

    def kill(self) -> None:
        """Every process of the job, at once."""
        import win32job

        with contextlib.suppress(Exception):  # pywintypes.error: the job is empty already
            win32job.TerminateJobObject(self.handle, 1)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.handle.Close()


def _alive(proc) -> bool:
    import psutil

    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@dataclass
class _Started:
    """A runner started and waiting (or about to) for its spec."""

    proc: subprocess.Popen
    listener: socket.socket
    token: str
    output: object
    work: str
    job: JobObject | None = None

    def accept(self, timeout: float) -> socket.socket:
        """The runner's connection, once it proves itself with the token."""
        deadline = time.monotonic() + timeout
        self.listener.settimeout(0.1)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RunnerDied(ended_how(*_end(self.proc.returncode)), _tail(self.output))
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            if _proves(conn, self.token):
                self.listener.close()
                return conn
            conn.close()
        raise RunnerDied("the runner did not connect in time", _tail(self.output))


def _proves(conn: socket.socket, token: str) -> bool:
    """Whether what connected is our runner: its first frame is its token."""
    try:
        return channel.recv(conn, timeout=5.0) == {"token": token}
    except (channel.ChannelClosed, channel.ChannelTimeout, channel.BadFrame, OSError):
        return False


class PortableZygote(Zygote):
    """The checker-side handle of the portable backend: a pool of started runners instead of
    a forking parent; the same `spawn`, `isolation` and `close` as the Linux zygote's."""

    def __init__(self, pool: int = POOL) -> None:
        self.spawned: list[int] = []
        self.tokens: list[str] = []  # every spawned runner's: what the sweep (and tests) look for
        self._isolation: dict[tuple, dict] = {}
        self._waiting: list[_Started] = []
        self._runners: list[PortableRunner] = []
        self._owner = os.getpid()  # the process whose children the runners are
        self._fill(pool)

    @classmethod
    def start(cls) -> PortableZygote:
        return cls()

    @classmethod
    def start_shared(cls, clients: int) -> list[Zygote]:
        """One handle per client (a batch's forked workers): each starts its runners where it
        is first used, since only the process that started a runner can wait for it."""
        return [cls(pool=0) for _ in range(clients)]

    def spawn(self, spec: RunnerSpec) -> RunnerProcess:
        """A started runner, given its spec; another is started to take its place."""
        spec = forced(spec)
        self._adopt()
        started = self._waiting.pop(0) if self._waiting else _start()
        self._fill(REFILL)
        try:
            conn = started.accept(HELLO_SECONDS)
            if started.job is not None:  # before the runner has its spec: before learner code
                started.job.limit(spec.limits, spec.cuda)
            channel.send(conn, {"spec": {**asdict(spec), "limits": asdict(spec.limits)}})
        except (RunnerDied, OSError) as exc:
            _discard(started)
            raise RunnerDied(f"the grader could not start a runner ({exc})", "") from None
        runner = PortableRunner(started, conn, spec)
        self.spawned.append(started.proc.pid)
        self.tokens.append(started.token)
        self._runners = [r for r in self._runners if not r.closed] + [runner]
        return runner

    def _fill(self, count: int) -> None:
        while len(self._waiting) < count:
            self._waiting.append(_start())

    def _adopt(self) -> None:
        """In a forked copy of this handle (a batch's worker), leave the parent's runners to
        the parent: here a Popen cannot wait for them (it would read every one as exited with
        code 0), and the parent's `close` ends them. This process starts its own, and ends
        them when it ends (a pool's worker runs its finalizers on the way out)."""
        if os.getpid() != self._owner:
            from multiprocessing import util

            self._owner, self._waiting, self._runners = os.getpid(), [], []
            util.Finalize(self, self.close, exitpriority=10)

    def close(self) -> None:
        """Kill every runner (waiting or spawned) with its whole tree; remove their folders."""
        self._adopt()
        for runner in self._runners:
            runner.close()
        for started in self._waiting:
            _discard(started)
        self._runners, self._waiting = [], []


def _start() -> _Started:
    """Start one runner process, cleanly; it connects back and imports torch meanwhile."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    token = secrets.token_hex(16)
    work = tempfile.mkdtemp(prefix="course-runner-")
    output = tempfile.TemporaryFile(prefix="course-runner-out-")  # noqa: SIM115 (runner's)
    host, port = listener.getsockname()
    # -X utf8: the learner's print() and open() speak UTF-8 as on Linux, not a Windows code page
    argv = [sys.executable, "-I", "-X", "utf8", "-m", RUNNER, host, str(port), str(os.getpid())]
    proc = subprocess.Popen(
        argv,
        env=runner_environment(work, token),
        cwd=work,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        **_own_group(),
    )
    return _Started(proc, listener, token, output, work, JobObject.around(proc.pid))


def runner_environment(work: str, token: str) -> dict[str, str]:
    """Nothing of the grader's environment but what Python needs on this system."""
    env = {"PATH": os.defpath, "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8", TOKEN: token}
    if sys.platform == "win32":  # sockets and the C runtime need these on Windows
        keep = ("SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT")
        env |= {k: os.environ[k] for k in keep if k in os.environ}
        env |= {"TEMP": work, "TMP": work, "USERPROFILE": work}
    return {**env, **THREADS}


def _own_group() -> dict:
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def _discard(started: _Started) -> None:
    ProcessTree(started.proc.pid, started.token, job=started.job).kill()
    with contextlib.suppress(Exception):
        started.proc.kill()
        started.proc.wait(KILL_SECONDS)
    if started.job is not None:
        started.job.close()
    started.listener.close()
    started.output.close()
    shutil.rmtree(started.work, ignore_errors=True)


def _end(returncode: int) -> tuple[int | None, int]:
    """A Popen return code as (signal, exit code)."""
    return (-returncode, 0) if returncode < 0 else (None, returncode)


def _tail(output, limit: int = 2000) -> str:
    try:
        output.seek(max(0, os.fstat(output.fileno()).st_size - limit))
        return output.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return ""


class PortableRunner(RunnerProcess):
    """Checker-side handle of one portable runner: the Linux runner's requests, replies and
    messages, with psutil where the Linux one reads its supervisor and resource group."""

    def __init__(self, started: _Started, conn: socket.socket, spec: RunnerSpec) -> None:
        import psutil

        self.backend = "portable"
        self.started, self.chan, self.output = started, conn, started.output
        self.proc = started.proc
        self.runner_pid = self.supervisor = self.proc.pid
        try:
            created = psutil.Process(self.proc.pid).create_time()
        except psutil.Error:
            created = time.time()
        self.group = ProcessTree(self.proc.pid, started.token, created, job=started.job)
        self.memory_bytes = self.memory_cap = spec.limits.memory_bytes  # polled: all systems
        self.file_bytes, self.processes = spec.limits.file_bytes, spec.limits.processes
        self._stopped_for = ""  # why the watch killed it, when it did
        self.oom_kills = 0
        self.alive = True
        self.requests = 0
        self.spent = 0.0
        self.closed = False

    def _watcher(self, clock):
        """The Linux runner's watch (CPU time, memory), what it printed and how many processes
        it runs: no rlimit holds those on Windows, nor RLIMIT_NPROC for root."""
        memory = super()._watcher(clock)

        def watch() -> None:
            memory()
            if _size(self.output) > self.file_bytes:
                self._stop(f"it printed more than the {self.file_bytes >> 20} MiB allowed")
            elif len(self.group.processes()) > self.processes:
                self._stop(f"it started more than the {self.processes} processes allowed")

        return watch

    def hello(self, timeout: float) -> dict:
        """The runner's hello, and the Job Object the grader holds its tree in, if any."""
        hello = super().hello(timeout)
        if self.started.job is not None:
            hello["notes"] = [*hello.get("notes", []), JOB_NOTE]
        return hello

    def _stop(self, why: str) -> None:
        """Kill the tree; the channel then ends, and `_ended` says why."""
        self._stopped_for = f"the runner was stopped: {why}"
        self.kill()

    def _resident(self) -> int | None:
        return self.group.resident()

    def _ended(self) -> str:
        """Say how the runner ended (it is gone, or about to be)."""
        self.alive = False
        try:
            code = self.proc.wait(2.0)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        if self._stopped_for:
            return self._stopped_for
        if code is None:
            return "the runner stopped without a word"
        return ended_how(*_end(code))

    def kill(self) -> None:
        """Kill the runner's whole tree (group, descendants, token carriers)."""
        self.alive = False
        self.group.kill()
        with contextlib.suppress(OSError):
            self.proc.kill()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(KILL_SECONDS)
        self.chan.close()
        self.output.close()
        self.started.listener.close()
        if self.started.job is not None:
            self.started.job.close()
        shutil.rmtree(self.started.work, ignore_errors=True)


def _size(output) -> int:
    try:
        return os.fstat(output.fileno()).st_size
    except (OSError, ValueError):
        return 0
