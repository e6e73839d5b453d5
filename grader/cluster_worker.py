"""The worker's side of grading on a Dask cluster (grader.cluster is the instructor's side).

`GraderPlugin` sets each worker up before it grades anyone: the same course as the client's,
one thread, a warm zygote (grader.zygote), and every isolation level a local batch requires.
`grade_remote` is the task: grade a learner's submission, read by the client (grader.handin: plain
data), as the local batch does (in a scratch folder of the worker's own), and return the outcome
(plain data); the worker writes no gradebook, CSV or feedback.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import importlib
import os
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from distributed import WorkerPlugin, get_worker

from courseware.content import Module, load_module
from courseware.errors import CourseError
from grader.batch import Submission, grade_learner
from grader.grade import GradeOptions, require_isolation
from grader.handin import Handin
from grader.results import Outcome

if TYPE_CHECKING:
    from grader.zygote import Zygote

PLUGIN = "course-grader"  # the name the grader registers itself under on a dask worker
ONE_THREAD = (
    "it runs {n} threads, and a worker grades one learner at a time: start workers with "
    "`dask worker ADDRESS --nthreads 1` (and `--nworkers N` for N on one machine)."
)
OTHER_COURSE = (
    "it grades with course {theirs}, and this machine with course {ours}: install the same "
    "version of the course's package (and the same course folder, where COURSE_ROOT names "
    "one) on the workers and here."
)
NOT_SET_UP = "it was not set up for grading (its grader plugin did not start)."
_WARM: dict[str, tuple[Zygote, threading.Lock]] = {}  # each worker's zygote, by its address


class WorkerUnfit(Exception):
    """This worker must grade nobody; the message says why and what to do."""


def identity(module: Module) -> str:
    """The course version, and a digest of what decides a grade (the grader's code, the
    manifest, the checks, the references): two machines grade alike only where these agree."""
    import courseware
    import grader
    from courseware import meanings

    package = Path(grader.__file__).parent  # its checks/ travel with the content in a wheel
    code = sorted(p for p in package.rglob("*.py") if "checks" not in p.relative_to(package).parts)
    content = [p for ex in module.exercises for p in (ex.check, ex.solution)]
    content += [p for p in [module.root / meanings.FILE] if p.is_file()]  # its own words
    digest = hashlib.sha256()
    for path in [*code, module.root / "course.yaml", *content]:
        name = path.relative_to(package if path in code else module.root).as_posix()
        digest.update(f"{name}\0{path.stat().st_size}\0".encode() + path.read_bytes())
    return f"{courseware.__version__} (grader and content {digest.hexdigest()[:12]})"


class GraderPlugin(WorkerPlugin):
    """Set up each worker to grade: refuse (WorkerUnfit, raised on the client) where it would
    grade otherwise than this machine or lack an isolation level."""

    name = PLUGIN

    def __init__(self, course: str, options: GradeOptions) -> None:
        self.course, self.options = course, options
        self.module: Module | None = None
        self.zygote = None
        self.lock: threading.Lock | None = None
        self.refused = ""  # why this worker grades nobody, for the tasks sent to it anyway

    async def setup(self, worker) -> None:
        try:
            await self._set_up(worker)
        except WorkerUnfit as exc:  # raised on the client, or, for a worker that joins later,
            self.refused = str(exc)  # by each task sent to it
            raise

    async def _set_up(self, worker) -> None:
        if worker.state.nthreads != 1:
            raise WorkerUnfit(_unfit(worker, ONE_THREAD.format(n=worker.state.nthreads)))
        try:
            module = load_module()
            theirs = identity(module)
        except CourseError as exc:  # no course here, or a broken one
            raise WorkerUnfit(_unfit(worker, exc.message)) from None
        if theirs != self.course:
            raise WorkerUnfit(_unfit(worker, OTHER_COURSE.format(theirs=theirs, ours=self.course)))
        try:
            zygote, lock = _warm_zygote(worker)
            await asyncio.get_running_loop().run_in_executor(None, self._warm, zygote)
        except CourseError as exc:
            raise WorkerUnfit(_unfit(worker, exc.message)) from None
        self.module, self.zygote, self.lock = module, zygote, lock

    def _warm(self, zygote) -> None:
        """What the local batch does before its first learner: torch and the checker's plugin
        imported, and every isolation level in force unless the instructor said otherwise."""
        from grader.confined import lazy_dynamo

        lazy_dynamo.install()
        importlib.import_module("grader.plugin")
        if self.options.require_isolation and not self.options.allow_unsafe:
            require_isolation(zygote.isolation(self.options.limits))


def _warm_zygote(worker) -> tuple[Zygote, threading.Lock]:
    """The worker's zygote, and the lock that lets one learner at a time use it: started
    once and kept warm from one class to the next (its isolation found once), it dies with
    its worker. Started from the event loop's thread, which lives as long as the worker: a
    zygote dies with the thread that started it (its parent-death signal)."""
    from grader.zygote import Zygote

    zygote, lock = _WARM.get(worker.address, (None, threading.Lock()))
    if zygote is None or zygote.proc.poll() is not None:
        zygote = Zygote.start()
        _WARM[worker.address] = zygote, lock
    return zygote, lock


def dask_setup(worker) -> None:
    """Preloaded by the workers of `--scheduler local:N` alone (grader.cluster), before they
    join: start the zygote now, so that it imports torch while the worker joins and the client
    sets it up. They share the instructor's terminal, whose Ctrl-C is the client's to handle
    (it stops them), and they leave at once when it does (Python's teardown of torch took
    seconds; nothing is left to save, and the zygote dies with its worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    atexit.register(os._exit, 0)  # the last registered runs first
    with contextlib.suppress(CourseError):  # the set-up meets it again, and says so
        _warm_zygote(worker)


def _unfit(worker, why: str) -> str:
    return f"the Dask worker {worker.address} refuses to grade: {why}"


def grade_remote(learner: str, handin: Handin, digest: str, options: GradeOptions) -> Outcome:
    """The task: grade one learner's submission (read by the client) on this worker, one
    learner at a time."""
    worker = get_worker()
    plugin = worker.plugins.get(PLUGIN)
    if not isinstance(plugin, GraderPlugin) or plugin.zygote is None:
        raise WorkerUnfit(getattr(plugin, "refused", "") or _unfit(worker, NOT_SET_UP))
    sub = Submission(learner, Path(handin.name))
    with plugin.lock:
        return grade_learner(plugin.module, sub, handin, digest, options, plugin.zygote)
