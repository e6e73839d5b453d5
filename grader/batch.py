"""`course grade SUBMISSIONS --batch`: a class at once, into a resumable gradebook.

The parent imports torch once, starts one zygote for all the jobs, then forks warm workers; each
worker grades a learner at a time (pytest in-process, learner code in runners forked by the zygote)
and returns plain results; only the parent writes the gradebook, one transaction per learner.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from courseware.content import Module
from courseware.errors import CourseError
from grader.archive import ArchiveError, extract
from grader.grade import GradeOptions
from grader.gradebook import Gradebook
from grader.results import GradeReport, not_graded

MAX_HASHED_BYTES = 100 << 20


@dataclass(frozen=True)
class Submission:
    learner: str
    path: Path  # a folder or a .zip

    @property
    def is_zip(self) -> bool:
        return self.path.suffix == ".zip"


@dataclass
class Outcome:
    """One learner's result: the report (every exercise 0 when it could not be graded)."""

    learner: str
    hash: str
    report: GradeReport
    seconds: float = 0.0
    error: str | None = None  # why the submission could not be graded


@dataclass
class BatchSummary:
    graded: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0


def submissions(folder: Path) -> list[Submission]:
    """One submission per folder or .zip in `folder`; its name is the learner id."""
    if not folder.is_dir():
        raise CourseError(
            f"{folder}: not a folder of submissions (one folder or .zip per learner)."
        )
    found: dict[str, Submission] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name.endswith(
            (".sqlite", ".sqlite-wal", ".sqlite-shm", ".csv")
        ):
            continue
        if entry.is_dir() or entry.suffix == ".zip":
            learner = entry.stem if entry.suffix == ".zip" else entry.name
            if learner in found:
                raise CourseError(
                    f"learner {learner!r} has both {found[learner].path.name} "
                    f"and {entry.name}; keep one."
                )
            found[learner] = Submission(learner, entry)
    if not found:
        raise CourseError(f"{folder} holds no submissions (one folder or .zip per learner).")
    return list(found.values())


def content_hash(submission: Submission) -> str:
    """A digest of the submission's bytes, so that a changed submission is graded again."""
    digest = hashlib.sha256()
    paths = (
        [submission.path]
        if submission.is_zip
        else sorted(p for p in submission.path.rglob("*") if p.is_file())
    )
    budget = MAX_HASHED_BYTES
    for path in paths:
        digest.update(str(path.relative_to(submission.path.parent)).encode())
        with open(path, "rb") as f:
            data = f.read(budget)
        budget -= len(data)
        digest.update(data)
    return digest.hexdigest()


def grade_batch(
    module: Module,
    folder: Path,
    gradebook: Gradebook,
    jobs: int,
    options: GradeOptions,
    regrade: bool = False,
    progress: Callable[[Outcome], None] = lambda outcome: None,
    on_start: Callable[[int, int], None] = lambda todo, skipped: None,
) -> BatchSummary:
    """Grade every submission not yet graded at its current content; record each one."""
    started = time.monotonic()
    summary = BatchSummary()
    known = gradebook.hashes()
    todo = []
    for sub in submissions(folder):
        digest = content_hash(sub)
        if not regrade and known.get(sub.learner) == digest:
            summary.skipped.append(sub.learner)
        else:
            todo.append((sub, digest))
    on_start(len(todo), len(summary.skipped))
    if todo:
        for outcome in _run_pool(module, todo, jobs, options):
            gradebook.record(outcome)
            summary.graded.append(outcome)
            progress(outcome)
    summary.seconds = time.monotonic() - started
    return summary


def _run_pool(module: Module, todo: list, jobs: int, options: GradeOptions):
    """Yield each learner's outcome as soon as it is ready."""
    import importlib

    import torch  # noqa: F401  (imported once, before the workers fork: they start warm)

    from grader.zygote import Zygote

    importlib.import_module("torch._dynamo")
    importlib.import_module("grader.plugin")
    jobs = max(1, min(jobs, len(todo)))
    zygotes = Zygote.start_shared(jobs)  # one torch import for the whole class
    slots = multiprocessing.get_context("fork").Queue()
    for i in range(jobs):
        slots.put(i)
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_init_worker, initargs=(zygotes, slots)
        ) as pool:
            pending = {
                pool.submit(_grade_one, module, sub, digest, options): sub for sub, digest in todo
            }
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    sub = pending.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        raise CourseError(
                            "a grading worker died; the learners graded so far are saved. "
                            "Run the same command again to resume."
                        ) from None
                    except Exception as exc:  # a grader bug: record it, carry on
                        why = f"the grader failed on this submission: {exc!r}"
                        yield _error(sub, "", why, module, options.exercises)
    finally:
        for zygote in zygotes:
            zygote.close()


_zygote = None


def _init_worker(zygotes, slots) -> None:
    from grader.sandbox import die_with_parent

    global _zygote
    die_with_parent()
    _zygote = zygotes[slots.get()]


def _grade_one(module: Module, sub: Submission, digest: str, options: GradeOptions) -> Outcome:
    """In a worker: unpack if needed, grade, and return the learner's outcome."""
    from grader.grade import grade

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="course-batch-"))
    try:
        target = sub.path
        if sub.is_zip:
            target = workdir / sub.learner
            target.mkdir()
            try:
                extract(sub.path, target)
            except ArchiveError as exc:
                return _error(sub, digest, f"{sub.path.name}: {exc}", module, options.exercises)
        report = grade(module, target, options, zygote=_zygote)
    except CourseError as exc:
        return _error(sub, digest, exc.message, module, options.exercises)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return Outcome(sub.learner, digest, report, round(time.monotonic() - started, 3))


def _error(sub: Submission, digest: str, message: str, module: Module, wanted=()) -> Outcome:
    """A submission that could not be graded at all: zero, with the reason recorded."""
    exercises = [module.exercise(e) for e in wanted] or list(module.exercises)
    report = not_graded(sub.path.name, exercises, message)
    return Outcome(sub.learner, digest, report, error=message)


def distribution(scores: list[float], max_score: float, bins: int = 5) -> list[tuple[str, int]]:
    """How many learners fall in each fifth of the score range."""
    if max_score <= 0:
        return []
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, int(bins * s / max_score))] += 1
    width = max_score / bins
    return [(f"{i * width:g}–{(i + 1) * width:g}", n) for i, n in enumerate(counts)]


def describe(summary: BatchSummary, gradebook: Gradebook) -> str:
    """The end-of-batch summary: counts, the score distribution, the most failed checks."""
    totals = gradebook.totals()
    scores = [t[1] for t in totals]
    max_score = max((t[2] for t in totals), default=0.0)
    lines = [
        f"Graded {len(summary.graded)} learner(s) in {summary.seconds:.1f} s; "
        f"skipped {len(summary.skipped)} already graded at their current content.",
        f"Gradebook: {gradebook.path} ({len(totals)} learner(s)).",
    ]
    if scores:
        lines.append(
            f"Scores out of {max_score:g}: median {statistics.median(scores):g}, "
            f"mean {statistics.mean(scores):.2f}"
        )
        peak = max(n for _, n in distribution(scores, max_score)) or 1
        for label, n in distribution(scores, max_score):
            lines.append(f"  {label:>9}  {'█' * round(20 * n / peak):<20} {n}")
    if failed := gradebook.most_failed():
        lines.append("Checks the class failed most:")
        lines += [f"  {n:>4} × {exercise} {title}" for exercise, title, n in failed]
    errors = [(t[0], t[3]) for t in totals if t[3]]
    if errors:
        lines.append(f"{len(errors)} submission(s) could not be graded:")
        lines += [f"  {learner}: {error}" for learner, error in errors[:10]]
    return "\n".join(lines)


def default_jobs() -> int:
    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
