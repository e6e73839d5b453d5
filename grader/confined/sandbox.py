"""Confinement of a runner process: a resource group, namespaces, a private filesystem view,
another user, a session keyring of its own, resource limits, a scrubbed environment and a
syscall filter. Linux only; each level is tried and the ones in force are reported, so a grade
always says how isolated the learner's code was.

Order matters: the resource group first (its files are out of sight once the view is in
place), namespaces (they need privileges), then mounts, then the user switch (which drops every
capability, so the limits can no longer be raised, and clears the parent-death signal, so it is
set again), then the limits, and the syscall filter last (setup uses what it denies).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import platform
import re
import resource
import signal
import stat
import tempfile
import time
from dataclasses import asdict, dataclass, field

from grader.confined.limits import GiB, Limits, MiB  # noqa: F401 (Limits: re-exported)

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 0x4000, 0x40000
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
ST_NOATIME, ST_RELATIME = 1024, 4096
MNT_DETACH = 2
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
PR_SET_PDEATHSIG = 1
KEYCTL = {"x86_64": 250, "aarch64": 219, "riscv64": 219, "ppc64le": 271, "s390x": 280}
KEYCTL_JOIN_SESSION_KEYRING = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
CAPABILITY_VERSION_3 = 0x20080522
UNPRIVILEGED_BASE_UID = 200_000  # runners run as BASE + (pid % 100000): one uid per runner


# The runner's view of the filesystem is an allowlist: the system's libraries and loader files,
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM += ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")
DEVICES = ("null", "zero", "full", "random", "urandom")
DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1"}
DEV_LINKS |= {"stderr": "/proc/self/fd/2"}
# the folders of sys.path (Python, torch), these files of the grader (what runs in a runner),
RUNNER_SIDE = ("__init__.py", "confined")  # of grader/: the package's marker and this folder
OWN_PACKAGES = ("grader", "course", "courseware", "__main__")  # only RUNNER_SIDE of these
LIBRARY_NAMES = ("site-packages", "dist-packages")
# and private tmpfs where it may write. The course's content package is hidden wherever it is
# installed (a wheel puts the references and checks in site-packages/courseware/data).
WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")
CONTENT_PACKAGE = "courseware"
ORDER = {"bind": 0, "link": 0, "tmpfs": 1, "scaffold": 1, "hide": 2}  # at equal depth
ALLOWLIST_VIEW = (
    "allowlist: system libraries, Python, torch and the grader's runner side, read-only; "
    "private /tmp, /var/tmp and /dev/shm"
)


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
    privileges_dropped: bool = False  # another uid, or no capabilities in our user namespace
    resource_group: str = "no"  # a cgroup for its whole tree: memory, processes, CPU, one kill
    own_keyring: bool = False  # a fresh, empty session keyring: none of the grader's keys
    syscall_filter: str = "no"  # seccomp deny-list
    exposed: list[str] = field(default_factory=list)  # references it could read (no view)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {**asdict(self), "missing": self.missing()}

    def missing(self) -> list[str]:
        """The levels not in force, in words; empty when the runner is fully confined."""
        levels = {
            "resource limits": self.limits,
            "a session of its own": self.own_session,
            "a PID namespace": self.pid_namespace,
            "a network namespace": self.network_namespace,
            "the allowlist filesystem view": self.filesystem_view == ALLOWLIST_VIEW,
            "a scrubbed environment": self.environment_scrubbed,
            "no privileges (another uid, or no capabilities)": self.privileges_dropped,
            f"the references out of reach ({len(self.exposed)} readable)": not self.exposed,
            "a resource group for its whole tree (cgroup)": self.resource_group[:6] == "cgroup",
            "a session keyring of its own": self.own_keyring,
            "a system-call filter (seccomp)": self.syscall_filter.startswith("seccomp"),
        }
        return [name for name, in_force in levels.items() if not in_force]


_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def die_with_parent(parent: int | None = None, sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies. Given the `parent`
    expected, also check it did not die before the request: the signal then comes now."""
    _libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        signal.raise_signal(sig)


def parent_alive(lifeline: int) -> bool:
    """Whether the process holding the write end of the pipe `lifeline` still lives: the
    read end sees the pipe's end once every writer is gone (a check that works in a PID
    namespace too, where getppid says 0)."""
    import select

    return not select.select([lifeline], [], [], 0)[0]


def join_session_keyring(iso: Isolation) -> None:
    """Leave the grader's session keyring for a fresh, empty one (owned by the runner's user):
    a key the grader holds there is no longer possessed, so it cannot be read."""
    number = KEYCTL.get(platform.machine())
    if number is None:
        iso.notes.append(f"no keyring of its own: keyctl not known on {platform.machine()}")
        return
    if _libc.syscall(number, KEYCTL_JOIN_SESSION_KEYRING, None) >= 0:
        iso.own_keyring = True
    elif ctypes.get_errno() == 38:  # ENOSYS: a kernel without keyrings has none to leak
        iso.own_keyring = True
        iso.notes.append("the kernel has no keyrings")
    else:
        iso.notes.append(f"no keyring of its own ({os.strerror(ctypes.get_errno())})")


def adopt_orphans() -> None:
    """Make this process the subreaper of its descendants: whatever the runner starts and
    leaves (a double fork, a new session) becomes this process's child, not init's."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def kill_descendants(seconds: float = 2.0) -> None:
    """SIGKILL every child of this process and reap it, until none is left (or `seconds`
    pass): with `adopt_orphans`, everything a runner started dies with it even where there
    is no PID namespace to end them all at once."""
    me, deadline = os.getpid(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        for pid in children(me):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return  # no child left
        time.sleep(0.005)


def children(parent: int) -> list[int]:
    """The pids whose parent is `parent`, read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == parent:
                found.append(int(entry))
    return found


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


def private_filesystem(iso: Isolation, hidden: list[str], tmp_bytes: int, cuda: bool) -> str:
    """Inside a mount namespace: enter a root made from an allowlist (see `plan_view`) and
    return the work folder in its private /tmp. Without one, or where the kernel refuses a
    step: a fresh folder under the real /tmp, and the report says the whole filesystem shows."""
    if iso.pid_namespace:
        try:
            enter_view(plan_view(runner_paths(), hidden, cuda), tmp_bytes)
        except OSError as exc:
            iso.notes.append(f"filesystem view not built ({exc})")
        else:
            iso.filesystem_view = ALLOWLIST_VIEW
            os.makedirs("/tmp/work", exist_ok=True)
            return "/tmp/work"
    iso.filesystem_view = "no (the runner sees the whole filesystem)"
    return tempfile.mkdtemp(prefix="course-runner-")


@dataclass(frozen=True)
class Mount:
    """One step in making the runner's root: what appears at `path`."""

    path: str
    kind: str  # bind: the host's `source`, read-only; link: a symlink to `source`;
    #            tmpfs: private and writable; hide, scaffold: empty and read-only
    source: str = ""


def runner_paths() -> list[str]:
    """What the runner needs to read besides the system: Python's library folders (the
    standard library, site-packages with torch), any other package it has imported (say a
    torch built from source), and the runner's side of the grader. Never a folder that is on
    sys.path only for an editable install: that is a course folder, with its .git."""
    import sys

    prefixes = _library_prefixes()
    entries = (os.path.abspath(p) for p in sys.path if p)
    libraries = [p for p in entries if os.path.exists(p) and _is_library(p, prefixes)]
    loaded = [p for p in _imported() if not _inside(p, libraries)]
    here = os.path.dirname(os.path.abspath(sys.modules["grader"].__file__))
    mine = [os.path.join(here, name) for name in RUNNER_SIDE]
    return list(dict.fromkeys([*libraries, *loaded, *(p for p in mine if os.path.exists(p))]))


def _library_prefixes() -> list[str]:
    import site
    import sys

    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    found.update(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        found.add(site.getusersitepackages())
    return [os.path.abspath(p) for p in found]


def _imported() -> list[str]:
    """Where each imported top-level module lives (its package folders, or its file), but the
    project's own packages: of those the runner gets RUNNER_SIDE alone."""
    import sys

    found = []
    for name, module in list(sys.modules.items()):
        if "." in name or name in OWN_PACKAGES or module is None:
            continue
        paths = [p for p in getattr(module, "__path__", None) or () if type(p) is str]
        file = getattr(module, "__file__", None)
        paths = paths or ([file] if type(file) is str else [])
        found += [os.path.abspath(p) for p in paths if os.path.exists(p)]
    return found


def _is_library(path: str, prefixes: list[str]) -> bool:
    """A folder of Python's installation, or any folder named like one (a site-packages that
    a .pth file adds); never a project's folder put on sys.path by an editable install."""
    return _inside(path, prefixes) or os.path.basename(path) in LIBRARY_NAMES


def _inside(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def plan_view(shown: list[str], hidden: list[str], cuda: bool) -> list[Mount]:
    """The runner's root, in mounting order: the system's libraries and `shown` read-only,
    private tmpfs where it may write, and every `hidden` path emptied wherever it shows
    through a bind (with whatever of `shown` lies inside it bound again on top). The course
    package's content (references and checks, in a wheel's site-packages) is hidden wherever
    a folder of `shown` holds it."""
    binds = [*_system(cuda), *(Mount(p, "bind", p) for p in dict.fromkeys(shown))]
    content = [os.path.join(p, CONTENT_PACKAGE) for p in shown]
    hides = _seen_at(binds, [*hidden, *content])
    wanted = [m for m in binds if m.path not in hides] + [Mount(p, "tmpfs") for p in WRITABLE]
    wanted += [Mount(p, "hide") for p in hides]
    wanted += [Mount(p, "scaffold") for p in _scaffolds(wanted)]
    steps: list[Mount] = []
    done: dict[str, str] = {}
    for m in sorted(wanted, key=lambda m: (m.path.count("/"), ORDER[m.kind])):
        host = _shows_host(m.path, done)
        if (m.kind in ("bind", "link") and host) or (m.kind == "hide" and not host):
            continue  # already visible, or already invisible
        done[m.path] = m.kind
        steps.append(m)
    return steps


def _scaffolds(wanted: list[Mount]) -> list[str]:
    """Where a bind lies inside a private tmpfs (Python in a CI clone under /tmp), the folders
    leading to it sit on a tmpfs of their own, read-only like the rest: the runner may write
    in its /tmp, not beside its Python."""
    binds = {m.path for m in wanted if m.kind in ("bind", "link")}
    found = []
    for path in sorted(binds):
        for place in WRITABLE:
            if path.startswith(place + "/"):
                first = place + "/" + path[len(place) + 1 :].split("/")[0]
                if first not in binds:
                    found.append(first)
    return list(dict.fromkeys(found))


def _system(cuda: bool) -> list[Mount]:
    """The system's libraries and loader files, a few device nodes, and for CUDA the
    NVIDIA devices and /sys."""
    devices = [f"/dev/{name}" for name in DEVICES]
    if cuda:
        devices += [*sorted(glob.glob("/dev/nvidia*")), "/sys"]
    found = []
    for path in (*SYSTEM, *devices):
        if os.path.islink(path):
            found.append(Mount(path, "link", os.readlink(path)))
        elif os.path.exists(path):
            found.append(Mount(path, "bind", path))
    return found + [Mount(f"/dev/{name}", "link", target) for name, target in DEV_LINKS.items()]


def _seen_at(binds: list[Mount], hidden: list[str]) -> list[str]:
    """Every place where a hidden path shows: itself, and its place under each bind whose
    source is reached through a symbolic link."""
    places = []
    for path in hidden:
        if not os.path.lexists(path):
            continue
        real = os.path.realpath(path)
        places.append(os.path.abspath(path))
        for m in binds:
            source = os.path.realpath(m.source) if m.kind == "bind" else ""
            if source and (real == source or real.startswith(source.rstrip("/") + "/")):
                places.append(os.path.normpath(m.path + real[len(source) :]))
    return list(dict.fromkeys(places))


def _shows_host(path: str, done: dict[str, str]) -> bool:
    """Whether `path` shows the host's files: its nearest step at or above it is a bind."""
    while True:
        if path in done:
            return done[path] in ("bind", "link")
        if path == "/":
            return False
        path = os.path.dirname(path)


def enter_view(steps: list[Mount], tmp_bytes: int) -> None:
    """Make `steps` into a new root and enter it; the old root is detached and everything but
    the private tmpfs is read-only. Needs a mount namespace of our own. On failure before the
    switch, nothing is left mounted; after it (which no kernel seen so far did), the runner
    must not go on."""
    sources = {m.source: _hold(m.source) for m in steps if m.kind == "bind"}
    os.umask(0o022)
    root = "/tmp"  # a mount point that exists everywhere; the sources are held open above
    _mount(b"none", "/", None, MS_REC | MS_PRIVATE)
    _mount(b"tmpfs", root, b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=755,size=8m")
    try:
        with open(f"{root}/.empty", "w"):
            pass
        for m in steps:
            _step(root, m, sources.get(m.source), tmp_bytes)
        os.unlink(f"{root}/.empty")  # what hides a file stays bound; the name need not show
        os.makedirs(f"{root}/proc", exist_ok=True)
        _mount(b"proc", f"{root}/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        os.mkdir(f"{root}/.old")
        _pivot_root(root, f"{root}/.old")
    except OSError:
        _libc.umount2(root.encode(), MNT_DETACH)
        raise
    finally:
        for fd in sources.values():
            os.close(fd)
    try:
        os.chdir("/")
        _check(_libc.umount2(b"/.old", MNT_DETACH), "detach the old root")
        os.rmdir("/.old")
        _read_only(keep=set(WRITABLE))
    except OSError as exc:
        raise SystemExit(f"the runner's new root is not safe to use: {exc}") from None


def _hold(path: str) -> int:
    """An O_PATH descriptor of `path`: a bind source stays reachable once its place is covered."""
    return os.open(path, os.O_PATH | os.O_CLOEXEC)


def _pivot_root(new: str, old: str) -> None:
    number = PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(38, f"pivot_root: not known on {platform.machine()}")
    _check(_libc.syscall(number, new.encode(), old.encode()), "pivot_root")


def _step(root: str, m: Mount, source: int | None, tmp_bytes: int) -> None:
    target = root + m.path
    if m.kind == "link":
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(m.source, target)
    elif m.kind == "bind":
        _mount_point(target, directory=stat.S_ISDIR(os.stat(source).st_mode))
        _mount(f"/proc/self/fd/{source}".encode(), target, None, MS_BIND | MS_REC)
    elif m.kind == "tmpfs":
        os.makedirs(target, exist_ok=True)
        size = tmp_bytes if m.path == "/tmp" else tmp_bytes // 8  # all of it is host memory
        options = f"size={size},mode=1777".encode()
        _mount(b"tmpfs", target, b"tmpfs", MS_NOSUID | MS_NODEV, options)
    elif m.kind == "scaffold" or os.path.isdir(target):  # an empty tmpfs, read-only later
        os.makedirs(target, exist_ok=True)
        flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
        _mount(b"tmpfs", target, b"tmpfs", flags, b"size=64k,mode=755")
    else:  # hide a file under an empty one
        _mount(f"{root}/.empty".encode(), target, None, MS_BIND)


def _mount_point(target: str, directory: bool) -> None:
    os.makedirs(target if directory else os.path.dirname(target), exist_ok=True)
    if not directory and not os.path.exists(target):
        with open(target, "w"):
            pass


def _mount(
    source, target: str, fstype: bytes | None, flags: int, data: bytes | None = None
) -> None:
    _check(_libc.mount(source, target.encode(), fstype, flags, data), f"mount {target}")


def _read_only(keep: set[str]) -> None:
    """Remount every mount of this namespace read-only and nosuid, except those in `keep`,
    keeping the flags a user namespace may not clear."""
    for point in _mount_points():
        if point.decode() in keep:
            continue
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | _locked_flags(point)
        _check(_libc.mount(None, point, None, flags, None), f"read-only {point.decode()}")


def _locked_flags(point: bytes) -> int:
    """The flags of a mount that a user namespace may not change: kept as they are."""
    found = os.statvfs(point).f_flag
    flags = found & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME)
    if found & ST_RELATIME:
        flags |= MS_RELATIME
    elif not found & ST_NOATIME:
        flags |= MS_STRICTATIME
    return flags


def _mount_points() -> list[bytes]:
    """Mount points of this namespace, as /proc/self/mountinfo lists them (bytes, unescaped)."""
    with open("/proc/self/mountinfo", "rb") as f:
        points = [line.split()[4] for line in f]
    unescape = re.compile(rb"\\([0-7]{3})")
    return list(dict.fromkeys(unescape.sub(lambda m: bytes([int(m[1], 8)]), p) for p in points))


def _python_readable_by_all() -> bool:
    """Could another user still import from the folders a runner reads (`runner_paths`: the
    standard library, site-packages with torch, any other package imported)? A course folder
    on sys.path (an editable install) need not be readable: the zygote imported the grader's
    runner side already, and the references are there."""
    import sys

    own = os.path.dirname(os.path.abspath(sys.modules["grader"].__file__))
    folders = [p for p in runner_paths() if os.path.isdir(p) and not _inside(p, [own])]
    return all(_world_readable(p) for p in folders)


def exposed_secrets(iso: Isolation, secrets: list[str]) -> None:
    """Where no view hides them (no mount namespace), note which of the references and checks
    the runner, as the user it now is, could still read: file permissions alone must keep
    them out of reach (the Gradescope bundle's setup.sh does that)."""
    if iso.filesystem_view != ALLOWLIST_VIEW:
        iso.exposed = [p for p in secrets if os.access(p, os.R_OK)]


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
        iso.privileges_dropped = True
    elif os.getuid() == 0 and (iso.filesystem_view == ALLOWLIST_VIEW or _python_readable_by_all()):
        os.chown(work, uid, uid)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        iso.separate_user = f"uid {uid} (no capabilities)"
        iso.privileges_dropped = True
    elif os.getuid() == 0:  # no view to re-expose a Python only root can read
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
