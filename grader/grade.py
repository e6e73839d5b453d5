"""`course grade`: find the learner's files, run the checks on them, return one report."""

from __future__ import annotations

import os
import platform
import tempfile
import time
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING
from unittest import mock

from courseware.content import Exercise, Module
from courseware.errors import CourseError
from courseware.exercise_cells import SUFFIX as NOTEBOOK
from courseware.exercise_cells import Staging
from courseware.files import MAX_LEARNER_ENTRIES, read_learner_file
from courseware.notebooks import untouched
from grader.confined.limits import Limits
from grader.names import TOOL_FOLDERS, misnamed, not_an_exercise_file
from grader.results import FAILED, NOT_ATTEMPTED, CheckResult, ExerciseResult, GradeReport

if TYPE_CHECKING:
    from grader.zygote import Zygote

# pytest plugins the checker does not use; unraisableexception alone costs 0.4 s of gc.collect
# per run on torch's heap, and debugging imports pdb.
UNUSED_PLUGINS = (
    *("cacheprovider", "terminal", "unraisableexception", "threadexception", "debugging"),
    *("logging", "junitxml", "doctest", "pastebin", "stepwise"),
)
SKIP_DIRS = TOOL_FOLDERS  # never a learner's work
NOT_ATTEMPTED_MESSAGE = (
    "Not attempted: {file} is still the starter. Read {statement}, fill in the TODOs, "
    "then run `course grade {file}` again."
)
MISSING_MESSAGE = "Not attempted: no file named {name} under {target}."
NO_SUCH_PATH = "{target}: no such file or folder."
GRADE_EXERCISE = (
    "To grade exercise {id}, run `course grade --exercise {id}` in your workspace, or name its "
    "folder or file (exercises/{id})."
)
RENAME_ONE = "{path} looks like it ({why}): rename it to {file} to have it graded."
TOO_MANY_ENTRIES = (
    "{folder} holds more than {limit} files and folders: point `course grade` at the folder "
    "of your exercises (e.g. exercises/), not a whole disk."
)


class IsolationMissing(CourseError):
    """Batch grading needs every isolation level, and a runner here lacks one."""


ISOLATION_MISSING = (
    "batch grading confines each learner's code completely, and here a runner lacks: "
    "{missing}.{notes}\nRun as root, or where the kernel lets ordinary users create user "
    "namespaces (on Debian and Ubuntu: sysctl kernel.unprivileged_userns_clone=1 and, on "
    "Ubuntu 24.04, kernel.apparmor_restrict_unprivileged_userns=0; in a container: allow "
    "unshare and mount); for the resource group, as root or with a cgroup v2 whose memory, "
    "pids and cpu controllers are delegated to you (systemd-run --user --scope -p "
    "Delegate=yes course grade ...); for the system-call filter, libseccomp (libseccomp2) and "
    "pyseccomp. Or pass --unsafe-no-isolation to grade anyway (every report then says what "
    "was missing)."
)
PORTABLE_REFUSED = (
    "batch grading confines each learner's code completely, and the portable backend (grader/"
    "portable.py: macOS, Windows, or COURSE_SANDBOX=portable) lacks: {missing}.\nIt serves "
    "learners grading their own code: grade a class on Linux with the full sandbox "
    "(COURSE_SANDBOX=auto or linux), or pass --unsafe-no-isolation to grade anyway (every "
    "report then says what was missing)."
)


@dataclass(frozen=True)
class GradeOptions:
    exercises: tuple[str, ...] = ()  # ids to grade; empty for all
    device: str = "auto"  # auto | cpu | cuda | mps
    limits: Limits = field(default_factory=Limits)
    treat_starters_as_attempts: bool = False  # `course verify` grades starters for real
    require_isolation: bool = False  # batch: refuse (exit 2) where runners lack a level
    allow_unsafe: bool = False  # --unsafe-no-isolation: grade anyway; reports say what lacked
    strict_names: bool = False  # batch: grade exact file names only (grader/names.py)

    @classmethod
    def of(
        cls, *, request_seconds: float | None = None, memory_mib: int | None = None, **fields
    ) -> GradeOptions:
        """Options with the runners' limits in the command line's units: callers never build
        Limits themselves."""
        changes: dict = {"request_seconds": request_seconds} if request_seconds else {}
        changes |= {"memory_bytes": memory_mib << 20} if memory_mib else {}
        return cls(limits=replace(Limits(), **changes), **fields)


class Grader:
    """The one way in for `course` (grade, watch, the notebook's service): a warm home for the
    runners, on the backend chosen in grader/backend.py, kept across grades until closed."""

    def __init__(self) -> None:
        self._zygote: Zygote | None = None

    def start(self) -> Grader:
        """Start the runners' home now: it imports torch while the caller works on."""
        if self._zygote is None:
            from grader.zygote import Zygote

            self._zygote = Zygote.start()
        return self

    def grade(
        self, module: Module, target: Path, options: GradeOptions | None = None
    ) -> GradeReport:
        """`grade` with this grader's warm runners (started on first use)."""
        return grade(module, target, options, zygote=self.start()._zygote)

    def close(self) -> None:
        """Stop the runners' home and every runner with it; a later grade starts afresh."""
        zygote, self._zygote = self._zygote, None
        if zygote is not None:
            zygote.close()

    def __enter__(self) -> Grader:
        return self.start()

    def __exit__(self, *_) -> None:
        self.close()


def grade(
    module: Module, target: Path, options: GradeOptions | None = None, zygote: Zygote | None = None
) -> GradeReport:
    """Grade the learner files found at `target` (a file, an exercise folder, or any folder;
    a notebook's exercise cells count as the files they stand for). Pass a running `zygote`
    to grade many targets without importing torch again each time."""
    with tempfile.TemporaryDirectory(prefix="course-notebooks-") as folder:
        return _grade(module, target, options, zygote, Staging(module, Path(folder)))


def _grade(
    module: Module,
    target: Path,
    options: GradeOptions | None,
    zygote: Zygote | None,
    notebooks: Staging,
) -> GradeReport:
    options = options or GradeOptions()
    started = time.monotonic()
    found = discover(module, target, notebooks)
    wanted = [module.exercise(e) for e in options.exercises] or list(found)
    files: dict[str, Path] = {}
    results: dict[str, ExerciseResult] = {}
    for ex in module.exercises:
        if ex not in wanted or ex not in found:
            continue
        path = found[ex]
        shown = _shown(notebooks.origin(path))
        result = ExerciseResult(ex.id, ex.title, ex.points, shown, "graded", hints=ex.hints)
        result.notes = list(notebooks.notes.get(path, ()))
        if path is None:
            result.state, result.message = (
                NOT_ATTEMPTED,
                _missing(module, ex, target),
            )
        elif not options.treat_starters_as_attempts and _untouched(path, ex):
            result.state = NOT_ATTEMPTED
            beside = path.parent / ex.statement.name  # the learner's copy, in a workspace
            statement = beside if beside.is_file() else ex.statement
            statement = notebooks.origin(path) if path in notebooks.origins else statement
            result.message = NOT_ATTEMPTED_MESSAGE.format(file=shown, statement=_shown(statement))
        else:
            files[ex.id] = path
        results[ex.id] = result
    devices = ("cpu",)
    if files:
        devices = _run_checks(module, target, files, options, results, zygote)
    return GradeReport(
        target=str(target),
        exercises=list(results.values()),
        devices=list(devices),
        versions={
            "course": _version(),
            "python": platform.python_version(),
            "torch": version("torch"),  # no `import torch` when there is nothing to grade
        },
        seconds=round(time.monotonic() - started, 3),
    )


def _run_checks(
    module: Module,
    target: Path,
    files: dict[str, Path],
    options: GradeOptions,
    results: dict[str, ExerciseResult],
    zygote: Zygote | None,
) -> tuple[str, ...]:
    """Run the check modules of `files` under pytest with our plugin; fill `results`."""
    from grader.zygote import Zygote

    own = zygote is None
    zygote = zygote or Zygote.start()  # imports torch in parallel with us
    try:
        import pytest
        import torch

        from grader.confined import lazy_dynamo

        lazy_dynamo.install()  # an optimizer's step no longer imports torch._dynamo
        from courseware import meanings
        from grader.checking.errors import declared
        from grader.plugin import GradeConfig, GradePlugin

        if options.require_isolation and not options.allow_unsafe:
            require_isolation(zygote.isolation(options.limits))

        torch.set_num_threads(1)  # the same arithmetic as the single-threaded runners
        devices = _devices(options.device, available_accelerators(torch))
        by_id = {ex.id: ex for ex in module.exercises}
        config = GradeConfig(
            files=files,
            solutions={i: by_id[i].solution for i in files},
            devices=devices,
            limits=options.limits,
            hidden=_hidden(module, target),
            zygote=zygote,
            secrets=_secrets(module),
        )
        plugin = GradePlugin(config)
        checks = [str(by_id[i].check) for i in files]
        args = [*checks, "-s", "-o", "addopts=", *(f"-pno:{p}" for p in UNUSED_PLUGINS)]
        args += ["--rootdir", str(module.root / "grader" / "checks"), "-c", os.devnull]
        own_words = declared(meanings.load(module.root))  # the module's own meanings
        # Only our plugin: third-party pytest plugins installed beside us must not interfere.
        with mock.patch.dict(os.environ, {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}), own_words:
            code = pytest.main(args, plugins=[plugin])
        if code not in (0, 1):
            errors = "\n".join(plugin.collection_errors) or f"pytest exited with code {code}"
            raise CourseError(f"the checks could not run:\n{errors}")
    finally:
        if own:
            zygote.close()
    for check in plugin.results:
        results[check.exercise].checks.append(check)
    for (exercise, _), learner in plugin.learners.items():
        results[exercise].isolation = results[exercise].isolation or learner.isolation
        results[exercise].output = results[exercise].output or learner.output
    for exercise in files:
        if not results[exercise].checks:
            results[exercise].checks.append(_nothing_ran(results[exercise]))
    return devices


def _nothing_ran(result: ExerciseResult) -> CheckResult:
    return CheckResult(result.id, "checks", "Checks", FAILED, 0.0, result.max_score, "no check ran")


ACCELERATORS = {"cuda": "CUDA (an NVIDIA GPU)", "mps": "MPS (an Apple GPU)"}


def available_accelerators(torch) -> tuple[str, ...]:
    """The GPUs torch can use here: CUDA (Linux, Windows) or MPS (Apple silicon)."""
    mps = getattr(torch.backends, "mps", None)
    found = {"cuda": torch.cuda.is_available(), "mps": bool(mps and mps.is_available())}
    return tuple(name for name, present in found.items() if present)


def _devices(choice: str, accelerators: tuple[str, ...]) -> tuple[str, ...]:
    """The devices to grade on: auto is the CPU and the first GPU present."""
    if choice == "auto":
        return ("cpu", *accelerators[:1])
    if choice != "cpu" and choice not in accelerators:
        raise CourseError(
            f"--device {choice}: no {ACCELERATORS[choice]} device is available on this "
            "machine; use --device cpu or auto."
        )
    return (choice,)


def require_isolation(isolation: dict) -> None:
    """Refuse to grade (exit 2) when a runner's hello shows a level missing: a class is
    graded only with every level in force, unless the instructor says otherwise."""
    missing = isolation.get("missing", ["(the runner did not say what it has)"])
    if missing and isolation.get("backend") == "portable":
        raise IsolationMissing(PORTABLE_REFUSED.format(missing=", ".join(missing)))
    if missing:
        notes = "".join(f"\n  ({note})" for note in isolation.get("notes", []))
        raise IsolationMissing(ISOLATION_MISSING.format(missing=", ".join(missing), notes=notes))


def _hidden(module: Module, target: Path) -> tuple[str, ...]:
    """What the runner must not see even inside a folder it is shown (Python's, torch's): the
    course folder (its .git, the references, checks and corpus, a built _site), the content
    package wherever it is installed, the learner's folder and the one holding it (in a class:
    the other learners, and the gradebook beside them). The runner sees nothing else of the
    host anyway: its view is an allowlist (grader/confined/sandbox.py)."""
    import courseware

    here = target if target.is_dir() else target.parent
    folders = {module.root, Path(courseware.__file__).parent, here, here.parent}
    return tuple(sorted({str(f.resolve()) for f in folders}))


def _secrets(module: Module) -> tuple[str, ...]:
    """What the learner's code must never read, by file, for a runner without a view to hide
    it (no mount namespace): every reference and check module, the course's .git and the
    content a wheel installs. The runner reports those it could read."""
    import courseware

    files = [ex.solution for ex in module.exercises] + [ex.check for ex in module.exercises]
    folders = [module.root / ".git", Path(courseware.__file__).parent / "data"]
    return tuple(str(p) for p in [*files, *folders] if p.exists())


def _no_such_path(module: Module, target: Path) -> str:
    """A path that does not exist; where it names an exercise (`course grade NN_slug`,
    as `course reset` takes it), the command that grades that exercise."""
    try:
        ex = module.exercise(str(target))
    except CourseError:
        return NO_SUCH_PATH.format(target=target)
    return NO_SUCH_PATH.format(target=target) + " " + GRADE_EXERCISE.format(id=ex.id)


def discover(
    module: Module, target: Path, notebooks: Staging | None = None
) -> dict[Exercise, Path | None]:
    """Map each exercise to the learner's file at `target` (None where there is none); with
    `notebooks`, the exercise cells of the notebooks there are staged as files and count too."""
    try:
        target.stat()
    except FileNotFoundError:
        raise CourseError(_no_such_path(module, target)) from None
    except OSError as exc:
        raise CourseError(f"{target}: cannot be read ({exc.strerror}).") from None
    if notebooks is not None and target.suffix == NOTEBOOK and not target.is_dir():
        return dict(notebooks.stage(target))
    if target.is_file():
        ex = module.by_file(target.name)
        if ex is None:
            raise CourseError(not_an_exercise_file(module, target.name))
        return {ex: target}
    for ex in module.exercises:
        if target.resolve().name == ex.id:  # an exercise folder: that exercise only
            path = target / ex.file  # whatever it is: the safe reader says what is wrong
            return {ex: path if os.path.lexists(path) else None}
    found: dict[Exercise, Path | None] = {}
    named = _find(target, {ex.file for ex in module.exercises})
    for notebook in named.pop(NOTEBOOK, []) if notebooks is not None else []:
        for ex, path in notebooks.stage(notebook).items():
            named.setdefault(ex.file, []).append(path)
    origin = notebooks.origin if notebooks is not None else (lambda path: path)
    for ex in module.exercises:
        matches = named.get(ex.file, [])
        if len(matches) > 1:
            listed = "\n  ".join(str(origin(m)) for m in matches[:5])
            listed += f"\n  … and {len(matches) - 5} more" if len(matches) > 5 else ""
            raise CourseError(
                f"found {len(matches)} files named {ex.file} under {target}:\n  {listed}\n"
                f"Keep one copy (move the others out of {target}), or grade one file, e.g. "
                f"`course grade {_shown(origin(matches[0]))}`."
            )
        found[ex] = matches[0] if matches else None
    return found


def _find(folder: Path, names: set[str]) -> dict[str, list[Path]]:
    """The paths of the files called one of `names` under `folder`, in one walk that follows
    no link and stops past MAX_LEARNER_ENTRIES entries (a learner's folder, not a disk)."""
    hits: dict[str, list[Path]] = {}
    seen = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        seen += len(dirnames) + len(filenames)
        if seen > MAX_LEARNER_ENTRIES:
            raise CourseError(TOO_MANY_ENTRIES.format(folder=folder, limit=MAX_LEARNER_ENTRIES))
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in names.intersection(filenames):
            hits.setdefault(name, []).append(Path(dirpath) / name)
        for name in sorted(f for f in filenames if f.endswith(NOTEBOOK)):
            hits.setdefault(NOTEBOOK, []).append(Path(dirpath) / name)
    return hits


def _missing(module: Module, ex: Exercise, target: Path) -> str:
    """Why `ex` is not attempted: no file of its name, and each file there whose name is
    clearly its file's, with the name to give it."""
    near = misnamed(module, target, ex) if target.is_dir() else []
    renames = [
        RENAME_ONE.format(path=_shown(target / p), file=ex.file, why=m.why()) for p, m in near
    ]
    return " ".join([MISSING_MESSAGE.format(name=ex.file, target=target), *renames])


def _untouched(path: Path, ex: Exercise) -> bool:
    """True when the file is the approved starter (ignoring line endings and trailing space),
    as shipped or as its notebook shows it."""
    try:
        return untouched(read_learner_file(path), ex)
    except OSError:
        return False


def _shown(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _version() -> str:
    from courseware import __version__

    return __version__
