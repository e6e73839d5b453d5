"""The package on a system without Linux's APIs, simulated: a subprocess whose startup shim
deletes `os.fork`, the `resource` module, `prctl` (and the other Linux calls) from the C
library as ctypes sees it, and /proc (for everything but psutil, which reads it as macOS's
sysctl would be read). There the learner's commands run, and grading picks the portable
backend by itself (COURSE_SANDBOX unset) for a solution and a mistake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

SHIM = textwrap.dedent(
    '''
    import builtins, ctypes, io, os, sys

    import psutil  # first: it stands for macOS's and Windows' own process calls here

    LINUX_CALLS = {"prctl", "unshare", "mount", "umount2", "capset", "syscall", "setns"}
    for name in ("fork", "forkpty"):  # macOS keeps register_at_fork, which torch uses
        if hasattr(os, name):
            delattr(os, name)
    sys.modules["resource"] = None  # import resource: ModuleNotFoundError, as on Windows


    class CDLL(ctypes.CDLL):
        def __getattr__(self, name):
            if name in LINUX_CALLS:
                raise AttributeError(f"function {name!r} not found (simulated macOS)")
            return super().__getattr__(name)

        def __getitem__(self, name):
            return self.__getattr__(name)


    ctypes.CDLL = CDLL


    def _hidden(path) -> bool:
        """/proc, unless psutil asks (it stands for macOS's own process calls here)."""
        try:
            text = os.fsdecode(path)
        except TypeError:
            return False
        if not (text == "/proc" or text.startswith("/proc/")):
            return False
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_globals.get("__name__", "").startswith("psutil"):
                return False
            frame = frame.f_back
        return True


    def _guard(real, missing):
        def guarded(path, *args, **kwargs):
            if _hidden(path):
                return missing(path)
            return real(path, *args, **kwargs)

        return guarded


    def _absent(path):
        raise FileNotFoundError(2, "No such file or directory (simulated: no /proc)", path)


    builtins.open = io.open = _guard(io.open, _absent)
    os.listdir = _guard(os.listdir, _absent)
    os.scandir = _guard(os.scandir, _absent)
    os.stat = _guard(os.stat, _absent)
    os.path.isdir = _guard(os.path.isdir, lambda path: False)
    os.path.exists = _guard(os.path.exists, lambda path: False)

    from course.cli import entry

    sys.argv = ["course", *sys.argv[1:]]
    entry()
    '''
)


@pytest.fixture
def simulated(tmp_path):
    """Run `course ARGS` in the simulated system; returns the finished process."""
    shim = tmp_path / "simulated_macos.py"
    shim.write_text(SHIM)
    env = {k: v for k, v in os.environ.items() if k != "COURSE_SANDBOX"}
    env |= {"COURSE_DATA_DIR": str(tmp_path / "data"), "NO_COLOR": "1"}

    def run(*args: str, cwd=tmp_path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(shim), *args],
            capture_output=True, text=True, env=env, cwd=cwd, timeout=600,
        )  # fmt: skip

    return run


def test_the_shim_removes_what_it_says(simulated, tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os, ctypes, importlib.util\nfrom grader import backend\n"
        "print(hasattr(os, 'fork'), os.path.isdir('/proc/self'), backend.linux_unavailable())\n"
    )
    shim = tmp_path / "only.py"
    shim.write_text(
        SHIM.split("from course.cli import entry")[0] + "exec(open(sys.argv[1]).read())\n"
    )
    done = subprocess.run(
        [sys.executable, str(shim), str(probe)], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split(" ", 2)[:2] == ["False", "False"], done.stderr
    assert "os.fork is missing" in done.stdout


def test_learner_commands_and_grading_without_linux_apis(simulated, tmp_path):
    assert simulated("--help").returncode == 0
    made = simulated("init", "ws")
    assert made.returncode == 0, made.stdout + made.stderr
    workspace = tmp_path / "ws"
    shown = simulated("progress", cwd=workspace)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    folder = workspace / "exercises" / "01_lstm_network"
    good = (REPO / "solutions" / "01_lstm_network" / "lstm_network.py").read_text()
    (folder / "lstm_network.py").write_text(good)
    report = tmp_path / "good.json"
    graded = simulated("grade", str(folder), "--format", "json", "-o", str(report), cwd=workspace)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "portable backend" in graded.stdout
    graded = json.loads(report.read_text())
    assert graded["isolation"]["backend"] == "portable"
    assert graded["score"] == graded["max_score"] > 0
    (folder / "lstm_network.py").write_text(good.replace("return", "return 0 *", 1))
    wrong = simulated("grade", str(folder), cwd=workspace)
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "Traceback" not in wrong.stdout + wrong.stderr
    reset = simulated("reset", "01_lstm_network", "--yes", cwd=workspace)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert "return 0 *" not in (folder / "lstm_network.py").read_text()


class FakeWin32:
    """pywin32's win32job, win32api and win32con as the portable backend calls them,
    recording each call (no Windows here, as no Apple GPU for the MPS tests)."""

    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
    JOB_OBJECT_LIMIT_JOB_MEMORY = 0x200
    JOB_OBJECT_LIMIT_ACTIVE_PROCESS = 0x8
    JobObjectExtendedLimitInformation = 9
    PROCESS_SET_QUOTA, PROCESS_TERMINATE = 0x100, 0x1

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.info = {"BasicLimitInformation": {"LimitFlags": 0, "ActiveProcessLimit": 0}}
        self.info["JobMemoryLimit"] = 0

    def CreateJobObject(self, attributes, name):  # pywin32's names
        outer = self

        class Handle:
            def Close(self):
                outer.calls.append(("Close",))

        return Handle()

    def OpenProcess(self, access, inherit, pid):
        self.calls.append(("OpenProcess", access, pid))
        return f"process {pid}"

    def AssignProcessToJobObject(self, job, process):
        self.calls.append(("Assign", process))

    def QueryInformationJobObject(self, job, kind):
        return json.loads(json.dumps(self.info))

    def SetInformationJobObject(self, job, kind, info):
        self.info = info
        self.calls.append(("Set", info["BasicLimitInformation"]["LimitFlags"]))

    def TerminateJobObject(self, job, code):
        self.calls.append(("Terminate", code))


def test_windows_job_object_holds_each_runner(monkeypatch):
    """On Windows each portable runner is put in a Job Object as it starts (killed when the
    grader's handle closes), capped in memory and processes before it gets its spec, said in
    its hello, and terminated as one at the end; elsewhere, or without pywin32, none."""
    from grader import portable
    from grader.confined.limits import Limits
    from grader.zygote import RunnerSpec

    assert portable.JobObject.around(os.getpid()) is None  # not Windows
    monkeypatch.setattr(portable, "WINDOWS", True)
    monkeypatch.setitem(sys.modules, "win32job", None)
    assert portable.JobObject.around(os.getpid()) is None  # no pywin32
    fake = FakeWin32()
    for name in ("win32job", "win32api", "win32con"):
        monkeypatch.setitem(sys.modules, name, fake)
    zygote = portable.PortableZygote(pool=0)
    try:
        runner = zygote.spawn(RunnerSpec("01_lstm_network", (), Limits(processes=16)))
        try:
            hello = runner.hello(60)
        finally:
            runner.close()
    finally:
        zygote.close()
    access = fake.PROCESS_SET_QUOTA | fake.PROCESS_TERMINATE
    pid = zygote.spawned[0]
    for call in [("OpenProcess", access, pid), ("Assign", f"process {pid}")]:
        assert call in fake.calls  # the runner (and its refill) each in a job
    assert fake.calls[0] == ("Set", fake.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE)
    assert ("Set", 0x2000 | 0x200 | 0x8) in fake.calls  # memory and processes, with the spec
    assert fake.calls.count(("Set", 0x2000 | 0x8)) == 1  # processes first, then memory
    assert fake.info["JobMemoryLimit"] == Limits().memory_bytes
    assert fake.info["BasicLimitInformation"]["ActiveProcessLimit"] == 16
    assert portable.JOB_NOTE in hello["notes"]
    assert ("Terminate", 1) in fake.calls and fake.calls[-1] == ("Close",)
    cuda = FakeWin32()  # CUDA's driver commits memory of its own: no memory cap then
    for name in ("win32job", "win32api", "win32con"):
        monkeypatch.setitem(sys.modules, name, cuda)
    portable.JobObject(cuda.CreateJobObject(None, "")).limit(Limits(), cuda=True)
    assert cuda.calls == [("Set", 0x8)]
