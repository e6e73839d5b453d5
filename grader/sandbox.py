"""Confinement of a runner process: namespaces, a private filesystem view, another user,
resource limits and a scrubbed environment. Linux only; each level is tried and the ones in
force are reported, so a grade always says how isolated the learner's code was.

Order matters: namespaces first (they need privileges), then mounts, then the user switch
(which drops every capability, so the limits can no longer be raised), then the limits.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from dataclasses import asdict, dataclass, field

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 0x4000, 0x40000
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
CAPABILITY_VERSION_3 = 0x20080522
UNPRIVILEGED_BASE_UID = 200_000  # runners run as BASE + (pid % 100000): one uid per runner

GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one runner may use. Every figure is configurable from `course grade`."""

    memory_bytes: int = 4 * GiB  # address space on CPU; resident set on CUDA (polled)
    cpu_seconds: int = 300
    file_bytes: int = 64 * MiB  # largest file it may write (stdout included)
    tmp_bytes: int = 128 * MiB  # size of its private /tmp, where it works
    open_files: int = 256
    processes: int = 64  # threads count too
    request_seconds: float = 10.0  # one call into the learner's code (per request)
    exercise_seconds: float = 120.0  # all calls of one exercise together


@dataclass
class Isolation:
    """Which confinement levels are in force for a runner, as reported to the learner."""

    limits: bool = False
    own_session: bool = False
    separate_user: str = "no"
    pid_namespace: bool = False
    network_namespace: bool = False
    filesystem_view: str = "no"
    environment_scrubbed: bool = False
    user_namespace: bool = False  # not root: root only inside a namespace of our own
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def unshare_namespaces(iso: Isolation) -> None:
    """New mount, PID, network, IPC and UTS namespaces; as a normal user inside a user
    namespace. The PID namespace applies to the children forked after this call."""
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    uid, gid = os.getuid(), os.getgid()
    try:
        if uid == 0:
            _check(_libc.unshare(flags), "unshare")
        else:
            _check(_libc.unshare(flags | CLONE_NEWUSER), "unshare")
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"0 {uid} 1")
            _write("/proc/self/gid_map", f"0 {gid} 1")
            iso.user_namespace = True
    except OSError as exc:
        iso.notes.append(f"no namespaces ({exc.strerror}): network and processes not confined")
        return
    iso.pid_namespace = iso.network_namespace = True


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def private_filesystem(iso: Isolation, hidden: list[str], tmp_bytes: int) -> str:
    """Inside a mount namespace: give the runner its own size-capped /tmp, hide `hidden`
    folders under empty read-only tmpfs, and mount a /proc of its own PID namespace. Python's
    own folders stay reachable even when they lie under /tmp or where only root may go.
    Returns the work folder (a fresh folder under the real /tmp without a mount namespace)."""
    if not iso.pid_namespace:
        import tempfile

        iso.filesystem_view = "no (the runner sees the whole filesystem)"
        return tempfile.mkdtemp(prefix="course-runner-")
    private = [p for p in ("/tmp", "/dev/shm", "/var/tmp") if os.path.isdir(p)]
    try:
        _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount private")
        keep = _python_folders([*private, *hidden])
        tmp_opts = f"size={tmp_bytes},mode=1777".encode()
        for path in private:
            flags = MS_NOSUID | MS_NODEV
            _check(_libc.mount(b"tmpfs", path.encode(), b"tmpfs", flags, tmp_opts), f"mount {path}")
        shown = []
        for path in hidden:
            if os.path.isdir(path):
                flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
                _check(
                    _libc.mount(b"tmpfs", path.encode(), b"tmpfs", flags, b"size=4k"),
                    f"hide {path}",
                )
                shown.append(path)
        _rebind(keep)
        _libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    except OSError as exc:
        iso.notes.append(f"filesystem view incomplete ({exc})")
        iso.filesystem_view = "partial"
    else:
        covered = [h for h in hidden if any(h.startswith(p + "/") for p in private)]
        iso.filesystem_view = f"private /tmp; hidden: {', '.join(shown + covered) or 'nothing'}"
    work = "/tmp/work"
    os.makedirs(work, exist_ok=True)
    return work


def _python_folders(shadowed: list[str]) -> dict[str, int]:
    """The folders of sys.path that the runner would lose (under a folder about to be covered,
    or unreadable for an unprivileged user), each held open so it can be bound back later."""
    import sys

    keep = {}
    for entry in sys.path:
        if not os.path.isdir(entry) or entry in keep:
            continue
        covered = any(entry == s or entry.startswith(s.rstrip("/") + "/") for s in shadowed)
        if covered or not _world_readable(entry):
            keep[entry] = os.open(entry, os.O_PATH | os.O_DIRECTORY)
    return keep


def _rebind(keep: dict[str, int]) -> None:
    """Bind each kept folder, read-only, under the runner's /tmp/.python, and point sys.path
    and the packages already imported from there at the new place."""
    import sys

    moved: dict[str, str] = {}
    for i, (entry, fd) in enumerate(keep.items()):
        view = f"/tmp/.python/{i}"
        os.makedirs(view, exist_ok=True)
        source = f"/proc/self/fd/{fd}".encode()
        _check(_libc.mount(source, view.encode(), None, MS_BIND | MS_REC, None), f"bind {entry}")
        _libc.mount(None, view.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY, None)
        os.close(fd)
        moved[entry.rstrip("/") + "/"] = view + "/"
    if not moved:
        return
    os.chmod("/tmp/.python", 0o755)
    sys.path[:] = [_moved(p + "/", moved).rstrip("/") if p.startswith("/") else p for p in sys.path]
    sys.path_importer_cache.clear()
    for module in list(sys.modules.values()):
        search = getattr(module, "__path__", None)
        if type(search) is list:
            search[:] = [_moved(p, moved) for p in search]


def _moved(path: str, moved: dict[str, str]) -> str:
    for old, new in moved.items():
        if path.startswith(old):
            return new + path[len(old) :]
    return path


def _python_readable_by_all() -> bool:
    """Could another user still import from every folder of sys.path?"""
    import sys

    return all(_world_readable(p) for p in sys.path if os.path.isdir(p))


def _world_readable(folder: str) -> bool:
    """Can a user with no relation to the owner list `folder` and walk to it?"""
    path = os.path.abspath(folder)
    if os.stat(path).st_mode & 5 != 5:
        return False
    while path != "/":
        path = os.path.dirname(path)
        if not os.stat(path).st_mode & 0o001:
            return False
    return True


def runner_uid(supervisor_pid: int) -> int:
    """The uid a runner takes: one per live runner, from its supervisor's (host) pid."""
    return UNPRIVILEGED_BASE_UID + supervisor_pid % 100_000


def drop_privileges(iso: Isolation, work: str, uid: int) -> None:
    """Leave no privilege to the learner's code. As root: become `uid`, with no groups and no
    capabilities, so that RLIMIT_NPROC is enforced and hard limits cannot be raised again. As
    a normal user inside our own user namespace: stay that user, without the namespace's
    capabilities (so the hiding mounts cannot be undone)."""
    if iso.user_namespace:
        _drop_capabilities()
        iso.separate_user = "no: the runner is you, without capabilities"
    elif os.getuid() == 0 and (iso.pid_namespace or _python_readable_by_all()):
        os.chown(work, uid, uid)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        iso.separate_user = f"uid {uid} (no capabilities)"
    elif os.getuid() == 0:  # no namespace to re-expose a Python only root can read
        iso.notes.append("runs as root: Python is readable by root alone and no mount namespace")
    else:
        iso.separate_user = "no: the runner is you"
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def _drop_capabilities() -> None:
    """Empty the bounding, effective, permitted and inheritable capability sets."""
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    header, data = _CapHeader(CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def apply_limits(iso: Isolation, limits: Limits, cuda: bool, processes: int) -> None:
    """Resource limits (`processes`: see process_allowance). An address-space cap breaks CUDA,
    so CUDA runners get none here and the checker polls their resident memory instead."""
    caps = {
        resource.RLIMIT_CPU: limits.cpu_seconds,
        resource.RLIMIT_FSIZE: limits.file_bytes,
        resource.RLIMIT_NOFILE: limits.open_files,
        resource.RLIMIT_NPROC: processes,
        resource.RLIMIT_CORE: 0,
    }
    if not cuda:
        caps[resource.RLIMIT_AS] = limits.memory_bytes
    for which, value in caps.items():
        hard = resource.getrlimit(which)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))
    iso.limits = True


def process_allowance(limits: Limits) -> int:
    """The RLIMIT_NPROC a runner gets, read on the host before any namespace: it counts every
    process (and thread) of the real uid, so a runner that stays the learner's own user gets
    its allowance on top of what that user already runs; a runner uid of its own (as root)
    starts from zero."""
    uid = os.getuid()
    if uid == 0:
        return limits.processes
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as f:
                    fields = dict(line.split(":", 1) for line in f if ":" in line)
                if int(fields["Uid"].split()[0]) == uid:
                    count += int(fields["Threads"])
            except (OSError, KeyError, ValueError):
                continue
    return limits.processes + count


def scrub_environment(iso: Isolation, work: str) -> None:
    """Nothing of the grader's environment reaches learner code."""
    os.environ.clear()
    os.environ.update(
        PATH="/usr/local/bin:/usr/bin:/bin",
        HOME=work,
        TMPDIR=work,
        LANG="C.UTF-8",
        OMP_NUM_THREADS="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    iso.environment_scrubbed = True
