"""`course grade SUBMISSIONS --batch`: a class at once, into a resumable gradebook.

The parent imports torch once, starts one zygote for all the jobs, then forks warm workers; each
worker grades a learner at a time (pytest in-process, learner code in runners forked by the zygote)
and returns plain results; only the parent writes the gradebook, one transaction per learner.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from courseware.content import Module
from courseware.errors import CourseError
from courseware.files import learner_digest
from grader.archive import ArchiveError
from grader.grade import GradeOptions, require_isolation
from grader.gradebook import Gradebook
from grader.handback import HostFolders, write_feedback
from grader.handin import Handin, grade_handin, read_handin
from grader.results import ERROR, GradeReport, Outcome, not_graded
from grader.sanitize import clean_id, id_flags, shown

if TYPE_CHECKING:
    from grader.zygote import Zygote

GRADER_ERROR = (
    "grader error, not your fault: {what}. Your work was not graded; the instructor will run "
    "the grader again."
)
CHECK_ERROR = (
    "grader error in a check, not the learner's: {checks} (scored 0; fix the check, then run "
    "the batch again: these learners are graded again)"
)
WORKER_DIED = "the grading process stopped while grading this submission"
DUPLICATE = (
    "{n} submissions for one learner id: {names}. Neither was graded: keep one and run the "
    "batch again."
)
UNREADABLE = "{name} cannot be read safely ({why}): submit a folder or a .zip of plain files."
FEEDBACK_FAILED = "the feedback file for {learner} could not be written ({why})"
MAX_FEEDBACK_NAME = 120  # bytes of a learner id kept in a feedback file's name
SINGLE_FILES = (".zip", ".ipynb")  # a submission that is one file: a zip, or one notebook
GRADEBOOK_SUFFIXES = (".sqlite", ".sqlite-wal", ".sqlite-shm", ".csv")


OUTPUT_IN_VIEW = (
    "{what} ({path}) would lie inside {where} ({folder}), which learners' code may be shown: "
    "any learner could read it. {fix}"
)
DEFAULT_GRADEBOOK_FIX = "Pass --gradebook FILE outside it."
OPTION_FIX = "Choose {option} outside it."


class OutputInView(CourseError):
    """An output of the batch would lie where a learner's code may be shown it."""


@dataclass(frozen=True)
class BatchOutputs:
    """Where a batch writes: the gradebook, and the CSV and the feedback when asked for."""

    gradebook: Path
    csv: Path | None = None
    feedback: Path | None = None


def batch_outputs(
    module: Module,
    folder: Path,
    gradebook: Path | None = None,
    csv: Path | None = None,
    feedback: Path | None = None,
) -> BatchOutputs:
    """The batch's outputs (the gradebook by default beside the class folder, named after it),
    each refused (OutputInView, exit 2) where it would lie inside what a runner may be shown:
    the class folder with every learner's folder, the course folder, Python's folders."""
    real = folder.resolve()
    book = gradebook or real.parent / f"{real.name}.gradebook.sqlite"
    shown = _runner_view(module, real)
    named = [("--gradebook", gradebook) if gradebook else ("the default gradebook", book)]
    for what, path in [*named, ("--csv", csv), ("--feedback-dir", feedback)]:
        if path is not None:
            _refuse_in_view(what, path, shown, gradebook is None and path == book)
    return BatchOutputs(book, csv, feedback)


def _runner_view(module: Module, class_folder: Path) -> list[tuple[str, Path]]:
    """The host folders a runner may be shown, in words, resolved."""
    from grader.confined.sandbox import runner_paths

    shown = [("the class folder", class_folder), ("the course folder", module.root.resolve())]
    return shown + [("a folder of Python's", Path(p).resolve()) for p in runner_paths()]


def _refuse_in_view(what: str, path: Path, shown: list[tuple[str, Path]], default: bool) -> None:
    place = path.resolve()
    for where, inside in shown:
        if place == inside or inside in place.parents:
            fix = DEFAULT_GRADEBOOK_FIX if default else OPTION_FIX.format(option=what)
            raise OutputInView(
                OUTPUT_IN_VIEW.format(what=what, path=path, where=where, folder=inside, fix=fix)
            )


# Grades (submission, content hash) pairs, yielding each learner's outcome once, as it comes.
Executor = Callable[[Module, list[tuple["Submission", str]], GradeOptions], Iterable["Outcome"]]


@dataclass(frozen=True)
class Submission:
    learner: str  # the id: the folder's or zip's name, sanitised and in NFC
    path: Path  # a folder or a .zip
    clash: tuple[Path, ...] = ()  # every entry of a learner id given more than once

    @property
    def is_zip(self) -> bool:
        return self.path.suffix == ".zip"

    @property
    def entries(self) -> tuple[Path, ...]:
        return self.clash or (self.path,)


@dataclass
class BatchSummary:
    graded: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    flags: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # none of them stopped the class
    seconds: float = 0.0


def submissions(folder: Path) -> list[Submission]:
    """One submission per learner id: a folder or .zip in `folder`, named by the id. An id
    given twice (a folder and a zip, or one name in NFC and NFD) is one submission that clashes.
    An entry that is a link is a submission too, never followed: reading it fails, and that
    learner gets an error row."""
    if not folder.is_dir():
        unzip = " Unzip it first: the class is a folder." if folder.suffix == ".zip" else ""
        raise CourseError(
            f"{folder}: not a folder of submissions (one folder or .zip per learner).{unzip}"
        )
    found: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name.endswith(GRADEBOOK_SUFFIXES):
            continue
        mode = entry.lstat().st_mode
        if stat.S_ISDIR(mode) or stat.S_ISLNK(mode) or entry.suffix in SINGLE_FILES:
            found.setdefault(clean_id(_stem(entry)), []).append(entry)
    if not found:
        raise CourseError(f"{folder} holds no submissions (one folder or .zip per learner).")
    return [
        Submission(learner, paths[0], tuple(paths) if len(paths) > 1 else ())
        for learner, paths in found.items()
    ]


def _stem(entry: Path) -> str:
    return entry.stem if entry.suffix in SINGLE_FILES else entry.name


def content_hash(submission: Submission, options: GradeOptions) -> str:
    """A digest of the submission's files, read as every learner file is read (no links, no
    FIFOs or devices, a cap on bytes), and of the exercises it counts and how names are read,
    so that a changed submission, or another choice of exercises, is graded again. OSError
    where an entry cannot be read that way (a folder or .zip that is a link, say)."""
    choice = (*options.exercises, *(["--strict-names"] if options.strict_names else []))
    digest = hashlib.sha256(" ".join(choice).encode())
    for entry in submission.entries:
        name = os.fsencode(entry.name)
        digest.update(len(name).to_bytes(4, "big") + name + learner_digest(entry).encode())
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
    feedback: Path | None = None,
    executor: Executor | None = None,
) -> BatchSummary:
    """Grade every submission not yet graded at its current content; record each one (and
    write its report to `feedback`, when given). No learner can stop the others. `executor`
    grades elsewhere (grader.cluster); by default, `jobs` workers of this machine."""
    started = time.monotonic()
    found = submissions(folder)
    summary = BatchSummary(flags=id_flags({s.learner: map(_stem, s.entries) for s in found}))
    known = gradebook.hashes()
    todo, refused = [], []
    for sub in found:
        try:
            digest = content_hash(sub, options)
        except OSError as exc:  # that learner's row says why; the class goes on
            why = UNREADABLE.format(name=shown(sub.path.name), why=exc.strerror or exc)
            refused.append(_error(sub, "", why, module, options))
            continue
        if not regrade and known.get(sub.learner) == digest:
            summary.skipped.append(sub.learner)
        else:
            todo.append((sub, digest))
    on_start(len(todo) + len(refused), len(summary.skipped))
    hosts = HostFolders.of(module.root, folder)
    twins = case_twins(s.learner for s in found)
    clashes = [_clash(sub, digest, module, options) for sub, digest in todo if sub.clash]
    gradable = [(sub, digest) for sub, digest in todo if not sub.clash]
    run = executor or (lambda module, todo, options: _run_pool(module, todo, jobs, options))
    graded = run(module, gradable, options) if gradable else ()
    for outcome in chain(refused, clashes, graded):
        gradebook.record(outcome)
        if feedback is not None:
            _hand_back(feedback, outcome, summary, hosts, twins)
        summary.graded.append(outcome)
        progress(outcome)
    gradebook.set_flags({s.learner: summary.flags.get(s.learner, []) for s in found})
    summary.seconds = time.monotonic() - started
    return summary


def case_twins(learners: Iterable[str]) -> frozenset[str]:
    """The feedback names (case folded) that two learners of the class would share."""
    folded = Counter(feedback_name(learner).casefold() for learner in learners)
    return frozenset(name for name, n in folded.items() if n > 1)


def _hand_back(
    folder: Path, outcome: Outcome, summary: BatchSummary, hosts: HostFolders, twins: frozenset
) -> None:
    """Write the learner's feedback (grader/handback.py), where a failure (a full disk, a
    folder not writable) is noted in the summary: the gradebook holds the grade already, and
    the class goes on."""
    try:
        write_feedback(folder, feedback_name(outcome.learner, twins), outcome, hosts)
    except (OSError, CourseError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        summary.problems.append(FEEDBACK_FAILED.format(learner=shown(outcome.learner), why=why))


def feedback_name(learner: str, twins: frozenset[str] = frozenset()) -> str:
    """The file name (without suffix) of a learner's feedback: the id where it makes a safe,
    short name, else its first characters and a digest (distinct ids, distinct files). A name
    in `twins` (names that differ from another learner's only in case, one file on macOS's and
    Windows' file systems) takes the digest too."""
    name = learner.replace(os.sep, "_").replace(os.altsep or os.sep, "_")
    fits = len(os.fsencode(name)) <= MAX_FEEDBACK_NAME and name not in (".", "..")
    if fits and name.casefold() not in twins:
        return name
    digest = hashlib.sha256(learner.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    short = os.fsencode(name)[: MAX_FEEDBACK_NAME - 13].decode("utf-8", "ignore")
    return f"{short}-{digest}"


def _clash(sub: Submission, digest: str, module: Module, options: GradeOptions) -> Outcome:
    names = ", ".join(shown(e.name) for e in sub.clash)
    return _error(sub, digest, DUPLICATE.format(n=len(sub.clash), names=names), module, options)


def _run_pool(module: Module, todo: list, jobs: int, options: GradeOptions) -> Iterator[Outcome]:
    """Yield each learner's outcome as soon as it is ready. A worker that dies costs only the
    learner it was grading: the learners it might have been grading are graded again one at a
    time, and the one whose worker dies alone gets a grader-error row."""
    import importlib

    from grader.confined import lazy_dynamo

    lazy_dynamo.install()  # imports torch once, before the workers fork: they start warm
    importlib.import_module("grader.plugin")
    waiting = list(todo)
    while waiting:
        in_flight, waiting = yield from _round(module, waiting, jobs, options)
        for sub, digest in in_flight:
            alone, _ = yield from _round(module, [(sub, digest)], 1, options)
            if alone:
                yield grader_error(sub, WORKER_DIED, module, options)


def _round(module: Module, todo: list, jobs: int, options: GradeOptions):
    """Grade `todo` with `jobs` workers, at most one learner each at a time. Returns the
    learners in flight and those not started when a worker died (both empty otherwise)."""
    from grader.zygote import Zygote

    jobs = max(1, min(jobs, len(todo)))
    zygotes = Zygote.start_shared(jobs)  # one torch import for the whole class
    context = multiprocessing.get_context("fork")
    slots = context.Queue()
    for i in range(jobs):
        slots.put(i)
    queue = list(reversed(todo))
    try:
        if options.require_isolation and not options.allow_unsafe:  # before anyone is graded
            require_isolation(zygotes[0].isolation(options.limits))
        with ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_init_worker, initargs=(zygotes, slots)
        ) as pool:
            pending = {}
            while queue or pending:
                while queue and len(pending) < jobs:
                    sub, digest = queue.pop()
                    job = pool.submit(grade_submission, module, sub, digest, options)
                    pending[job] = (sub, digest)
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    sub, digest = pending.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        return [(sub, digest), *pending.values()], list(reversed(queue))
                    except Exception as exc:  # the guard: nothing stops the class
                        yield grader_error(sub, _what(exc), module, options)
    finally:
        for zygote in zygotes:
            zygote.close()
    return [], []


_zygote = None


def _init_worker(zygotes, slots) -> None:
    from grader.confined.sandbox import die_with_parent

    global _zygote
    die_with_parent()
    _zygote = zygotes[slots.get()]


def grade_submission(
    module: Module,
    sub: Submission,
    digest: str,
    options: GradeOptions,
    zygote: Zygote | None = None,
) -> Outcome:
    """In a worker of this pool: read the submission, grade it, and return the learner's
    outcome, whatever happens (a grader error is that learner's row, never the end of the
    batch). A cluster reads here and grades on its workers (grader.cluster)."""
    handin = read_submission(module, sub, digest, options)
    if isinstance(handin, Outcome):
        return handin
    return grade_learner(module, sub, handin, digest, options, zygote)


def read_submission(
    module: Module, sub: Submission, digest: str, options: GradeOptions
) -> Handin | Outcome:
    """The submission as plain data (grader.handin), or, where it cannot be read safely,
    that learner's error row."""
    try:
        return read_handin(module, sub.path, options)
    except (ArchiveError, OSError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return _error(sub, digest, f"{sub.path.name}: {why}", module, options)


def grade_learner(
    module: Module,
    sub: Submission,
    handin: Handin,
    digest: str,
    options: GradeOptions,
    zygote: Zygote | None = None,
) -> Outcome:
    """Grade one learner's submission, read already (`handin`: plain data, which may have
    come from another machine), into their outcome, whatever happens."""
    started = time.monotonic()
    try:
        report = grade_handin(module, handin, options, zygote or _zygote)
    except CourseError as exc:
        return _error(sub, digest, exc.message, module, options)
    except Exception as exc:  # the guard: nothing stops the class
        return grader_error(sub, _what(exc), module, options)
    seconds = round(time.monotonic() - started, 3)
    flags = [*handin.flags]
    if broken := checks_in_error(report):
        flags.append(CHECK_ERROR.format(checks="; ".join(broken)))
        digest = ""  # graded again by the next run, once the check is fixed
    return Outcome(sub.learner, digest, report, seconds, None, [*handin.notes], flags)


def checks_in_error(report: GradeReport) -> list[str]:
    """The checks that failed of themselves (the grader's fault, not the learner's)."""
    return [f"{e.id} {c.title}" for e in report.exercises for c in e.checks if c.state == ERROR]


def _what(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def grader_error(sub: Submission, what: str, module: Module, options: GradeOptions) -> Outcome:
    """A learner the grader failed, through no fault of theirs: zero, and no content hash, so
    that the next run grades them again."""
    return _error(sub, "", GRADER_ERROR.format(what=what), module, options)


def _error(
    sub: Submission, digest: str, why: str, module: Module, options: GradeOptions
) -> Outcome:
    """A submission that could not be graded at all: zero, with the reason recorded."""
    exercises = [module.exercise(e) for e in options.exercises] or list(module.exercises)
    report = not_graded(sub.path.name, exercises, why)
    return Outcome(sub.learner, digest, report, error=why)


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
        lines += [f"  {_named(learner, summary)}: {error}" for learner, error in errors[:10]]
    if files := gradebook.files_to_check():
        lines.append(f"{len(files)} learner(s) to look at (the CSV's flags say why):")
        lines += [f"  {_named(learner, summary)}: {flags}" for learner, flags in files[:10]]
    if summary.flags:
        lines.append(f"{len(summary.flags)} learner id(s) to check (graded, never merged):")
        lines += [f"  {shown(i)}: {'; '.join(f)}" for i, f in sorted(summary.flags.items())]
    lines += [f"Note: {problem}." for problem in summary.problems]
    if lacking := unconfined(summary):
        lines.append(
            UNCONFINED.format(n=len(lacking), missing=", ".join(sorted(set(chain(*lacking)))))
        )
    return "\n".join(lines)


def _named(learner: str, summary: BatchSummary) -> str:
    """An id as written, escaped only where it may hide something (a flagged id): 'émile' is
    émile, a Cyrillic 'аda' is '\\u0430da'."""
    return shown(learner) if learner in summary.flags else learner


UNCONFINED = (
    "WARNING: {n} learner(s) graded with --unsafe-no-isolation, their code NOT confined by: "
    "{missing}. Their scores are only as trustworthy as their code."
)


def unconfined(summary: BatchSummary) -> list[list[str]]:
    """The isolation levels missing for each learner graded without all of them."""
    return [m for o in summary.graded if (m := o.report.isolation.get("missing"))]


def default_jobs() -> int:
    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
