"""`course grade SUBMISSIONS --batch --scheduler ADDRESS`: a class graded on a Dask cluster.

The instructor's machine (the client) reads each submission as the local batch does (grader.
handin: the exercise files' bytes, nothing followed) and sends it; workers set up by grader.
cluster_worker grade it and send back the outcome (plain data, both ways: no shared disk). Only the
client writes the gradebook, the CSV and the feedback (grader.batch.grade_batch), so they are
the files a local batch writes. Dask distributed does the rest: a worker that dies has its
learners graded again on another, and a learner on whose account MAX_TRIES workers died is an
error row (Dask's KilledWorker), graded again by the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import re
from collections.abc import Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass
from importlib.util import find_spec
from multiprocessing import forkserver

from courseware import __version__, distribution
from courseware.content import Module
from courseware.errors import CourseError
from grader.batch import WORKER_DIED, Submission, grader_error, read_submission
from grader.grade import GradeOptions
from grader.results import Outcome

NEEDS_DASK = (
    "--scheduler needs Dask distributed, which is not installed here: "
    "pip install '{package}[cluster]' (here and on every worker)."
)
BAD_ADDRESS = (
    "--scheduler {address}: give the address of a running Dask scheduler (tcp://HOST:8786) "
    "or local:N for N worker processes on this machine."
)
UNREACHABLE = (
    "cannot reach the Dask scheduler at {address} within {seconds} s ({why}): start it "
    "(`dask scheduler`), or check the address, the port and the firewall."
)
NO_WORKERS = (
    "the Dask scheduler at {address} has had no worker for {seconds} s: start some "
    "(`dask worker {address} --nthreads 1`), then run the same command again."
)
NO_GRADER = (
    "the Dask workers of {address} cannot set up the course's grader ({why}): install "
    "{package}[cluster]=={version}, the version installed here, on every worker."
)
LOST = (
    "the Dask scheduler at {address} went away: the learners graded so far are in the "
    "gradebook; run the same command again to grade the others."
)
KILLED = "{died}, on each of the {tries} workers that tried"
CONNECT_SECONDS = 5
WORKER_SECONDS = 60
MAX_TRIES = 3  # workers that may die grading one learner, on local:N (a scheduler's own config)
LOCAL = re.compile(r"local:([0-9]{1,4})")
ADDRESS = re.compile(r"(?:[a-z]+://)?[^\s/]+:[0-9]{1,5}")  # tcp://HOST:PORT, HOST:PORT
ENGINE_LOGS = ("distributed", "tornado", "asyncio")
LOCAL_CONFIG = {  # what a scheduler of one's own is told (README: deployment)
    "distributed.scheduler.allowed-failures": MAX_TRIES - 1,
    "distributed.scheduler.worker-saturation": 1.0,  # one learner per worker at a time
    "distributed.worker.multiprocessing-method": "forkserver",  # workers forked warm
    "distributed.worker.profile.enabled": False,  # no sampling of the grading thread's stack
    "distributed.admin.system-monitor.interval": "10s",  # an idle worker's CPU: 14 ms/s, then 3
    "distributed.admin.tick.interval": "1s",
}
# What the forkserver of local:N imports once, before it forks each worker: Dask, and torch with
# the checker (as grader.batch's parent before its jobs), never running a torch op.
WARM = ("distributed", "grader.cluster_worker", "torch", "grader.plugin")


class ClusterError(CourseError):
    """The cluster cannot grade this class; the message says why and what to do."""


@dataclass
class Cluster:
    """A connected client, as grader.batch's executor: grades (submission, hash) pairs."""

    client: object  # distributed.Client
    address: str

    def __call__(
        self, module: Module, todo: list[tuple[Submission, str]], options: GradeOptions
    ) -> Iterator[Outcome]:
        """Each learner's outcome once, as it comes; a few learners per worker in flight."""
        from distributed import as_completed

        from grader.cluster_worker import grade_remote

        queue, pending, done = list(reversed(todo)), {}, as_completed(loop=self.client.loop)
        try:
            while queue or pending:
                window = self._window()  # asked of the scheduler once per learner done
                while queue and len(pending) < window:
                    sub, digest = queue.pop()
                    handin = read_submission(module, sub, digest, options)
                    if isinstance(handin, Outcome):  # it cannot be read safely
                        yield handin
                        continue
                    args = (sub.learner, handin, digest, options)
                    future = self.client.submit(grade_remote, *args, pure=False)
                    pending[future] = sub
                    done.add(future)
                if pending:
                    future = next(done)
                    yield self._outcome(future, pending.pop(future), module, options)
        except (OSError, CancelledError):  # the client's own calls: the scheduler is gone
            raise ClusterError(LOST.format(address=self.address)) from None
        finally:
            with contextlib.suppress(OSError):
                self.client.cancel(list(pending))

    def _window(self) -> int:
        """Two learners per worker thread: each has the next at hand."""
        return max(2, 2 * sum(self.client.nthreads().values()))

    def _outcome(self, future, sub: Submission, module: Module, options: GradeOptions) -> Outcome:
        from distributed import KilledWorker

        from grader.cluster_worker import WorkerUnfit

        try:
            return future.result()
        except KilledWorker as exc:
            tries = exc.allowed_failures + 1
            return grader_error(sub, KILLED.format(died=WORKER_DIED, tries=tries), module, options)
        except WorkerUnfit as exc:
            raise ClusterError(str(exc)) from None
        except CancelledError:
            raise ClusterError(LOST.format(address=self.address)) from None
        except Exception as exc:  # the guard: nothing else stops the class
            return grader_error(sub, f"{type(exc).__name__}: {exc}", module, options)
        finally:
            future.release()


@contextlib.contextmanager
def connect(address: str, module: Module, options: GradeOptions) -> Iterator[Cluster]:
    """A cluster whose every worker is set up to grade as this machine would (grader.
    cluster_worker.GraderPlugin), or ClusterError before anyone is graded. `address`: a
    running scheduler's, or local:N to start N worker processes here."""
    if (match := LOCAL.fullmatch(address)) and int(match[1]) and find_spec("distributed"):
        _warm_forkserver()  # its imports run beside ours and the scheduler's start
    try:
        import distributed  # noqa: F401 (only to say what to install)
    except ImportError:
        raise ClusterError(NEEDS_DASK.format(package=distribution.name())) from None
    _quiet()
    with _scheduler(address, module) as where:
        client = _client(where, address)
        try:
            _set_up(client, address, module, options)
            yield Cluster(client, address)
        finally:
            client.close()  # the workers keep their zygotes warm for the next class


def _quiet() -> None:
    """The engine's log lines off (those its configuration set too): what goes wrong reaches
    us as exceptions, and a ClusterError says it in words."""
    known = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in ENGINE_LOGS]
    for name in {*ENGINE_LOGS, *known}:
        logging.getLogger(name).setLevel(logging.CRITICAL)


@contextlib.contextmanager
def _scheduler(address: str, module: Module) -> Iterator[str]:
    """The scheduler's address: `address`, or that of a LocalCluster started for local:N,
    whose workers grade this course (COURSE_ROOT) with this environment, wherever and whenever
    their forkserver started."""
    if not (match := LOCAL.fullmatch(address)):
        if not ADDRESS.fullmatch(address):
            raise ClusterError(BAD_ADDRESS.format(address=address))
        yield address
        return
    import dask
    from distributed import LocalCluster

    workers = int(match[1])
    if workers < 1:
        raise ClusterError(BAD_ADDRESS.format(address=address))
    with dask.config.set(LOCAL_CONFIG):
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            memory_limit=0, silence_logs=logging.CRITICAL,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},  # no 8787
            preload=["grader.cluster_worker"],  # its dask_setup: Ctrl-C is the client's
            env={**os.environ, "COURSE_ROOT": str(module.root)},
        )  # fmt: skip
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def _warm_forkserver() -> None:
    """Start the process that forks the workers of local:N (LOCAL_CONFIG) now, importing Dask
    and torch once for them all: the class pays for one import, not one per worker, while
    this process goes on. Dask's own preload comes too late to count (it is running)."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(WARM))
    forkserver.ensure_running()


def _client(where: str, address: str):
    """A client of the scheduler at `where`, once something there has answered as one."""
    from distributed import Client

    _answers(where, address)
    return Client(where, timeout=CONNECT_SECONDS, set_as_default=False)


def _answers(where: str, address: str) -> None:
    """ClusterError unless a Dask scheduler answers at `where` within CONNECT_SECONDS: probed
    with a connection of its own, for a client that fails leaves a thread behind that holds
    the command for seconds."""
    from distributed.comm import connect
    from distributed.security import Security

    async def probe() -> None:  # with the TLS certificates of Dask's config, for tls://
        tls = Security().get_connection_args("client")
        comm = await connect(where, timeout=CONNECT_SECONDS, **tls)
        await comm.close()

    try:
        asyncio.run(probe())
    except (ValueError, TypeError):
        raise ClusterError(BAD_ADDRESS.format(address=address)) from None
    except (OSError, asyncio.TimeoutError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(
            UNREACHABLE.format(address=address, seconds=CONNECT_SECONDS, why=why)
        ) from None
    except Exception as exc:  # something answered, and not in Dask's protocol
        why = f"what answers is no Dask scheduler: {type(exc).__name__}"
        raise ClusterError(
            UNREACHABLE.format(address=address, seconds=CONNECT_SECONDS, why=why)
        ) from None


def _set_up(client, address: str, module: Module, options: GradeOptions) -> None:
    """Wait for a worker, then set every worker up (and every one that joins later)."""
    from grader.cluster_worker import PLUGIN, GraderPlugin, WorkerUnfit, identity

    try:
        client.wait_for_workers(1, timeout=WORKER_SECONDS)
    except (OSError, asyncio.TimeoutError):
        raise ClusterError(NO_WORKERS.format(address=address, seconds=WORKER_SECONDS)) from None
    try:
        client.register_plugin(GraderPlugin(identity(module), options), name=PLUGIN)
    except WorkerUnfit as exc:
        raise ClusterError(str(exc)) from None
    except Exception as exc:  # a worker without the grader, or with another Python
        why = f"{type(exc).__name__}: {exc}"
        message = NO_GRADER.format(
            address=address, why=why, version=__version__, package=distribution.name()
        )
        raise ClusterError(message) from None
