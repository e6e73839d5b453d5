"""Resource groups (Linux cgroups): one per runner, holding the runner and everything it starts.

Per-process limits let a runner's children multiply its memory cap, starve a classmate's
runner of CPU and outlive the grader. A group counts the whole tree: a memory cap (the kernel
stops the tree when it is over), a process cap, an equal CPU share and a quota of `Limits.cpus`
CPUs, the CPU time the tree used (so a learner's time limit counts that learner's own CPU, not
the machine's load), and one operation that kills everything in it.

cgroup v2 where its controllers can be had (the grader's parent group is writable, or the
grader sits alone at the root of a container's hierarchy); v1 controllers where that is what
is mounted; a mix where each offers part (a v2 hierarchy without controllers still kills a
group at once and counts its CPU). Each role goes to the first hierarchy that offers it.

Zygote side: `make_base()` once, `Base.new_group()` per runner, `Base.remove()` at the end.
Runner side: `ResourceGroup.join()`. Checker and supervisor: `cpu_seconds()`, `oom_kills()`,
`kill()`, `remove()`. Everything here is Linux-specific; other systems get no group.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import time
from dataclasses import dataclass

ROLES = ("memory", "pids", "cpu", "usage", "kill")  # what a group does, each in one hierarchy
REQUIRED = ("memory", "pids", "cpu", "kill")  # the level is in force only with all of these
V1 = {"memory": "memory", "pids": "pids", "cpu": "cpu", "usage": "cpuacct", "kill": "freezer"}
V2 = {"memory": "memory", "pids": "pids", "cpu": "cpu"}  # usage and kill: any v2 group has them
CGROUP_FILE = "/proc/self/cgroup"
MOUNTINFO = "/proc/self/mountinfo"
PERIOD_US = 100_000  # the CPU quota's period
V1_SHARES, V2_WEIGHT = 1024, 100  # one runner's CPU share; the base gets one per CPU
WAIT_SECONDS = 2.0  # for a group to freeze, or to empty once killed
EVACUATED = "course-init"  # a container's processes, moved so that v2 controllers can be had


@dataclass(frozen=True)
class Hierarchy:
    """One mounted cgroup hierarchy, and this process's group in it."""

    version: int
    mount: str  # where it is mounted
    folder: str  # this process's group: a folder under `mount`
    controllers: frozenset[str]  # v1: those of the mount; v2: read from the group when needed


@dataclass(frozen=True)
class Place:
    """Where one role of a group is served: a folder of a v1 or v2 hierarchy."""

    version: int
    folder: str


@dataclass(frozen=True)
class ResourceGroup:
    """One runner's group: a folder in each hierarchy it uses, by role."""

    roles: tuple[tuple[str, Place], ...]

    def place(self, role: str) -> Place | None:
        return dict(self.roles).get(role)

    def folders(self) -> list[str]:
        return list(dict.fromkeys(p.folder for _, p in self.roles))

    def complete(self) -> bool:
        """Whether memory, processes and CPU are capped and the group can be killed as one."""
        return all(self.place(role) for role in REQUIRED)

    def describe(self) -> str:
        """The group in words, for the isolation report."""
        have = dict(self.roles)
        parts = [f"{r} (v{have[r].version})" for r in ROLES if r in have]
        return "cgroup: " + ", ".join(parts)

    def to_json(self) -> list:
        return [[role, p.version, p.folder] for role, p in self.roles]

    @classmethod
    def from_json(cls, data: list) -> ResourceGroup:
        return cls(tuple((role, Place(int(v), str(folder))) for role, v, folder in data))

    def join(self) -> None:
        """Move this process into the group, in every hierarchy (its children follow)."""
        for folder in self.folders():
            _write(f"{folder}/cgroup.procs", "0")

    def cpu_seconds(self) -> float | None:
        """CPU time used by everything in the group so far, or None if it cannot be read."""
        place = self.place("usage")
        try:
            if place is None:
                return None
            if place.version == 2:
                return _keyed(f"{place.folder}/cpu.stat")["usage_usec"] / 1e6
            return int(_read(f"{place.folder}/cpuacct.usage")) / 1e9
        except (OSError, KeyError, ValueError):
            return None

    def oom_kills(self) -> int:
        """How many processes of the group the kernel killed for going over its memory cap."""
        place = self.place("memory")
        name = "memory.events" if place and place.version == 2 else "memory.oom_control"
        try:
            return _keyed(f"{place.folder}/{name}").get("oom_kill", 0) if place else 0
        except (OSError, ValueError):
            return 0

    def pids(self) -> list[int]:
        """The processes in the group (as this process's PID namespace numbers them)."""
        found: list[int] = []
        for folder in self.folders():
            with contextlib.suppress(OSError, ValueError):
                found += [int(p) for p in _read(f"{folder}/cgroup.procs").split()]
        return list(dict.fromkeys(found))

    def kill(self) -> None:
        """SIGKILL everything in the group at once: cgroup.kill (v2), or frozen first so that
        nothing in it can fork meanwhile (cgroup.freeze, v1's freezer), then each process."""
        place = self.place("kill")
        if place and place.version == 2 and os.path.exists(f"{place.folder}/cgroup.kill"):
            with contextlib.suppress(OSError):
                _write(f"{place.folder}/cgroup.kill", "1")
                return
        if place is not None:
            with _frozen(place):
                self._signal_all()
            return
        deadline = time.monotonic() + WAIT_SECONDS  # no freezer: a fork bomb ends at pids.max
        while self._signal_all() and time.monotonic() < deadline:
            time.sleep(0.001)

    def _signal_all(self) -> int:
        pids = self.pids()
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)

    def remove(self, seconds: float = WAIT_SECONDS) -> bool:
        """Kill what is left, wait for the group to empty and remove its folders. Returns
        whether every folder is gone."""
        deadline = time.monotonic() + seconds
        self.kill()
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.005)
            self.kill()
        return all(_rmdir(folder, deadline) for folder in self.folders())


@contextlib.contextmanager
def _frozen(place: Place | None):
    """Freeze the group while the body runs (nothing in it runs or forks), then thaw it so
    that the signals sent meanwhile take effect."""
    if place is None:
        yield
        return
    name, frozen, thawed = (
        ("cgroup.freeze", "1", "0") if place.version == 2 else ("freezer.state", "FROZEN", "THAWED")
    )
    path = f"{place.folder}/{name}"
    try:
        _write(path, frozen)
        _wait_frozen(place)
    except OSError:
        pass
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            _write(path, thawed)


def _wait_frozen(place: Place) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if place.version == 2:
            if _keyed(f"{place.folder}/cgroup.events").get("frozen") == 1:
                return
        elif _read(f"{place.folder}/freezer.state").strip() == "FROZEN":
            return
        time.sleep(0.001)


@dataclass(frozen=True)
class Base:
    """The zygote's own folder in each hierarchy it uses; runners' groups are made inside."""

    roles: tuple[tuple[str, Place], ...]
    notes: tuple[str, ...] = ()

    def folders(self) -> list[str]:
        return list(dict.fromkeys(p.folder for _, p in self.roles))

    def new_group(self, name: str, memory_bytes: int, processes: int, cpus: float) -> ResourceGroup:
        """A group for one runner, with its caps written; raises OSError (and leaves nothing)
        where the kernel refuses a step."""
        group = self.group(name)
        made = []
        try:
            for folder in group.folders():
                os.mkdir(folder, 0o755)
                made.append(folder)
            _caps(group, memory_bytes, processes, cpus)
        except OSError:
            for folder in reversed(made):
                _rmdir(folder, time.monotonic() + WAIT_SECONDS)
            raise
        return group

    def group(self, name: str) -> ResourceGroup:
        """The group `name` inside this base (made by `new_group`)."""
        return ResourceGroup(
            tuple((role, Place(p.version, f"{p.folder}/{name}")) for role, p in self.roles)
        )

    def remove(self) -> None:
        """Kill and remove every group still inside (its supervisor did not), then the base."""
        names: set[str] = set()
        for folder in self.folders():
            with contextlib.suppress(OSError):
                names |= {e.name for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)}
        for name in names:
            self.group(name).remove()
        deadline = time.monotonic() + WAIT_SECONDS
        for folder in self.folders():
            _rmdir(folder, deadline)


def _caps(group: ResourceGroup, memory_bytes: int, processes: int, cpus: float) -> None:
    """Write the group's memory, process and CPU caps into the hierarchy serving each."""
    memory, pids, cpu = group.place("memory"), group.place("pids"), group.place("cpu")
    quota = max(1000, int(cpus * PERIOD_US))
    if memory and memory.version == 2:
        _write(f"{memory.folder}/memory.max", str(memory_bytes))
        _write_if_there(f"{memory.folder}/memory.swap.max", "0")
        _write_if_there(f"{memory.folder}/memory.oom.group", "1")  # the kernel kills all of it
    elif memory:
        _write(f"{memory.folder}/memory.limit_in_bytes", str(memory_bytes))
        with contextlib.suppress(OSError):  # swap accounting may be off: then there is no swap
            _write(f"{memory.folder}/memory.memsw.limit_in_bytes", str(memory_bytes))
    if pids:
        _write(f"{pids.folder}/pids.max", str(processes))
    if cpu and cpu.version == 2:
        _write(f"{cpu.folder}/cpu.max", f"{quota} {PERIOD_US}")
    elif cpu:
        _write(f"{cpu.folder}/cpu.cfs_period_us", str(PERIOD_US))
        _write(f"{cpu.folder}/cpu.cfs_quota_us", str(quota))


def make_base(name: str | None = None) -> tuple[Base | None, str]:
    """This process's base folder in each hierarchy that serves a role, or None and why not.
    v2 first (its controllers, and its kill and CPU count, which any v2 group has), then v1
    for every role still missing."""
    name = name or f"course-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        found = hierarchies()
    except (OSError, ValueError) as exc:  # no /proc, or a line no kernel writes
        return None, f"no cgroups: {exc}"
    roles: dict[str, Place] = {}
    notes: list[str] = []
    v2 = next((h for h in found if h.version == 2), None)
    if v2 is not None:
        try:
            folder, note = _v2_base(v2, name)
            roles |= _v2_roles(folder) if folder else {}
        except OSError as exc:  # a hierarchy that lacks what every v2 group has
            folder, note = "", f"cgroup v2 at {v2.folder} not usable ({exc.strerror or exc})"
        notes += [note] if note else []
    for role, controller in V1.items():
        h = next((h for h in found if h.version == 1 and controller in h.controllers), None)
        if role not in roles and h is not None and (folder := _v1_base(h, name)):
            roles[role] = Place(1, folder)
    if not roles:
        return None, "no cgroup hierarchy here lets this user make groups" + _why(notes)
    base = Base(tuple((r, roles[r]) for r in ROLES if r in roles), tuple(notes))
    _share_per_cpu(base)
    return base, ""


def _why(notes: list[str]) -> str:
    return f" ({'; '.join(notes)})" if notes else ""


def _v2_roles(folder: str) -> dict[str, Place]:
    """The roles a v2 base serves: the controllers its children get, their CPU time (any v2
    group counts it) and the kill (cgroup.kill, or cgroup.freeze on kernels before 5.14)."""
    offered = set(_read(f"{folder}/cgroup.subtree_control").split())
    roles = {role: Place(2, folder) for role, c in V2.items() if c in offered}
    roles["usage"] = Place(2, folder)
    if os.path.exists(f"{folder}/cgroup.kill") or os.path.exists(f"{folder}/cgroup.freeze"):
        roles["kill"] = Place(2, folder)
    return roles


def _v2_base(h: Hierarchy, name: str) -> tuple[str, str]:
    """A folder for our groups in the v2 hierarchy, with as many controllers as can be had:
    beside our own group (its parent delegates our controllers), inside it (at the real
    root, or at a container's root once its processes are moved to a leaf: a group that holds
    processes cannot hand controllers to its children). Returns the folder ("" if none) and a
    note on what was done."""
    real_root = not os.path.exists(f"{h.folder}/cgroup.type")  # the real root alone has none
    container_root = h.folder == h.mount and not real_root  # the parent is out of sight
    places = [h.folder] if real_root or container_root else [os.path.dirname(h.folder), h.folder]
    made, note = [], ""
    for place in places:
        if not os.access(f"{place}/cgroup.procs", os.W_OK):
            continue  # moving a runner below `place` needs write access to its cgroup.procs
        if container_root:
            note = _evacuate(place)
        with contextlib.suppress(OSError):
            os.mkdir(f"{place}/{name}", 0o755)
            made.append(f"{place}/{name}")
            _delegate(made[-1])
    if not made:
        return "", note
    best = max(made, key=lambda folder: len(_v2_roles(folder)))  # the first of equals
    for folder in made:
        if folder != best:
            _rmdir(folder, time.monotonic() + WAIT_SECONDS)
    return best, note


def _delegate(folder: str) -> None:
    """Hand every controller a runner's group needs that `folder` may have to its children."""
    available = _read(f"{folder}/cgroup.controllers").split()
    for controller in V2.values():
        if controller in available:
            with contextlib.suppress(OSError):
                _write(f"{folder}/cgroup.subtree_control", f"+{controller}")


def _evacuate(folder: str) -> str:
    """At the root of a container's v2 hierarchy: move its processes into a leaf, so that the
    root may hand its controllers to child groups (as docker-in-docker does); a note, or ""."""
    available = _read(f"{folder}/cgroup.controllers").split()
    enabled = _read(f"{folder}/cgroup.subtree_control").split()
    wanted = [c for c in V2.values() if c in available and c not in enabled]
    if not wanted:
        return ""
    try:
        os.makedirs(f"{folder}/{EVACUATED}", exist_ok=True)
        for _ in range(10):  # processes may fork meanwhile
            pids = _read(f"{folder}/cgroup.procs").split()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(OSError):  # gone, or a kernel thread
                    _write(f"{folder}/{EVACUATED}/cgroup.procs", pid)
        _write(f"{folder}/cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
    except OSError as exc:
        return f"the container's processes could not be moved to a leaf group ({exc.strerror})"
    return f"the container's processes were moved to {folder}/{EVACUATED}"


def _v1_base(h: Hierarchy, name: str) -> str:
    """Our base folder in a v1 hierarchy ("" where we may not make one)."""
    folder = f"{h.folder}/{name}"
    try:
        os.makedirs(folder, 0o755, exist_ok=True)  # cpu and cpuacct may share a hierarchy
    except OSError:
        return ""
    return folder


def _share_per_cpu(base: Base) -> None:
    """All runners together weigh as many CPUs' worth as the machine has, not as one process,
    against the grader's other processes; each runner then gets an equal share among them."""
    cpu = dict(base.roles).get("cpu")
    if cpu is None:
        return
    count = os.cpu_count() or 1
    with contextlib.suppress(OSError):
        if cpu.version == 2:
            _write(f"{cpu.folder}/cpu.weight", str(min(10_000, V2_WEIGHT * count)))
        else:
            _write(f"{cpu.folder}/cpu.shares", str(V1_SHARES * count))


def hierarchies(mountinfo: str = MOUNTINFO, cgroup: str = CGROUP_FILE) -> list[Hierarchy]:
    """The cgroup hierarchies mounted here (v1: those of the controllers we use), with this
    process's group in each."""
    paths = {}  # (version, v1 controllers we use) -> our path in that hierarchy
    for line in _read(cgroup).splitlines():
        number, controllers, path = line.split(":", 2)
        names = frozenset(c for c in controllers.split(",") if c in V1.values())
        if number == "0" or names:
            paths[(2 if number == "0" else 1, names)] = path
    found, seen = [], set()
    for line in _read(mountinfo).splitlines():
        fields = line.split()
        sep = fields.index("-")
        fstype, options = fields[sep + 1], fields[sep + 3].split(",")
        version = {"cgroup": 1, "cgroup2": 2}.get(fstype)
        names = frozenset(o for o in options if o in V1.values()) if version == 1 else frozenset()
        key = (version, names)
        if key in seen or key not in paths:
            continue
        mount = _unescape(fields[4])
        folder = _below(mount, _unescape(fields[3]), paths[key])
        if folder:
            seen.add(key)
            found.append(Hierarchy(version, mount, folder, names))
    return found


def _below(mount: str, root: str, path: str) -> str:
    """Our group's folder, where the mount (of `root` in the hierarchy) shows it; else ""."""
    if root != "/" and path != root and not path.startswith(root + "/"):
        return ""
    rest = path[len(root) :] if root != "/" else path
    return mount.rstrip("/") + ("/" + rest.strip("/") if rest.strip("/") else "")


def _unescape(text: str) -> str:
    """A mountinfo field (spaces and such are octal escapes there)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), text)


def _keyed(path: str) -> dict[str, int]:
    """A cgroup file of "key value" lines (cpu.stat, memory.events, memory.oom_control)."""
    found = {}
    for line in _read(path).splitlines():
        key, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            found[key] = int(value)
    return found


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _write_if_there(path: str, text: str) -> None:
    if os.path.exists(path):
        _write(path, text)


def _rmdir(folder: str, deadline: float) -> bool:
    """Remove a group's folder: busy for a moment after its last process died."""
    while True:
        try:
            os.rmdir(folder)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
