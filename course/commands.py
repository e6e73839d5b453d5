"""The bodies of the commands that need more than one call: parse, delegate, print."""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import click

from courseware.content import load_module
from courseware.errors import EXIT_FAILED, EXIT_USAGE, CourseError

GRADER_FAILED = (
    "The grader itself failed; this is not your fault. Please report it with the output of "
    "`course grade -v`"
)


@dataclass(frozen=True)
class GradeArgs:
    """What `course grade` was given, typed, by the command line's names."""

    json_file: Path | None = None
    fmt: str | None = None
    output: Path | None = None
    device: str = "auto"
    exercises: tuple[str, ...] = ()
    timeout: float = 10.0
    memory: int = 4096  # MiB
    hints: bool = False
    all_hints: bool = False
    verbose: bool = False
    batch: bool = False
    jobs: int | None = None
    scheduler: str | None = None
    gradebook: Path | None = None
    csv_file: Path | None = None
    regrade: bool = False
    unsafe_no_isolation: bool = False
    strict_names: bool = False
    feedback_dir: Path | None = None


BATCH_ONLY = (  # the options that go with --batch
    *("jobs", "scheduler", "gradebook", "csv_file", "feedback_dir", "regrade"),
    *("unsafe_no_isolation", "strict_names"),
)


def grade(path: Path, **options) -> int:
    """Check the option combination, then grade one learner or a whole class."""
    args = GradeArgs(**options)
    if args.fmt and not args.output:
        raise click.UsageError("--format needs -o FILE.")
    batch_only = [k for k in BATCH_ONLY if getattr(args, k)]
    if batch_only and not args.batch:
        option = batch_only[0].replace("_file", "").replace("_", "-")
        raise click.UsageError(f"--{option} goes with --batch.")
    if args.scheduler and args.jobs:
        raise click.UsageError(JOBS_OR_SCHEDULER)
    from course.workspace import check_report_target
    from grader.formats import SUFFIXES

    if args.json_file:
        check_report_target(args.json_file, "--json", (".json",))
    if args.fmt:
        check_report_target(args.output, "-o", (SUFFIXES[args.fmt],))
    if args.csv_file:
        check_report_target(args.csv_file, "--csv", (".csv",))
    if args.batch:
        if path is None:
            raise click.UsageError("--batch needs SUBMISSIONS, the folder of the class's work.")
        return _grade_batch(path, args)
    return _grade_one(path, args)


def _grade_options(args: GradeArgs):
    from grader.grade import GradeOptions

    return GradeOptions.of(
        request_seconds=args.timeout,
        memory_mib=args.memory,
        exercises=args.exercises,
        device=args.device,
        require_isolation=args.batch,  # a class: only with every isolation level
        allow_unsafe=args.unsafe_no_isolation,
        strict_names=args.strict_names,
    )


def _grade_one(path: Path, args: GradeArgs) -> int:
    """Grade `path`, print the report and the hints asked for, write the files asked for;
    return the exit code. With --hints (and no report file, which needs every check), an
    exercise unchanged since its last grade is not graded again: its last grade stands."""
    from course import learning
    from grader.report import terminal

    hints = args.hints or args.all_hints
    plan = None
    if hints and not (args.json_file or args.fmt):
        plan = learning.hint_plan(path, args.exercises)
    report, problems = None, []
    if plan is None or plan.grade:
        graded = replace(args, exercises=plan.grade) if plan else args
        module, workspace, report = _grade_now(path, graded, plan)
        problems = _write_reports(report, args)  # first: a platform gets its results at once
        click.echo(terminal(report, verbose=args.verbose, hints=hints))
    else:
        module, workspace = plan.module, plan.workspace
    if plan is not None and (standing := learning.standing_text(plan)):
        total = learning.plan_total(plan, report)
        click.echo(("\n" if report else "") + f"{standing}\n\n{total}")
    if hints:
        try:
            failing = learning.failing_of(report, plan)
            click.echo("\n" + learning.hints_text(module, workspace, failing, args.all_hints))
        except CourseError as exc:  # the data folder: the grade stands, the hints wait
            click.echo(f"Warning: no hints this time: {exc.format_message()}", err=True)
    for problem in problems:
        click.echo(f"Error: {problem}", err=True)
    if problems:
        return EXIT_USAGE
    passed = (report is None or report.all_passed) and (plan is None or plan.all_passed())
    return 0 if passed else EXIT_FAILED


def _grade_now(path: Path, args: GradeArgs, plan):
    """Grade `path` (the exercises of `args`), remembering the grades of the workspace's
    own files; return the module, the workspace and the report."""
    from course import learning
    from grader.grade import Grader

    grader = Grader().start()  # first: it imports torch while we read the module
    try:
        from grader.sanitize import clean

        module = plan.module if plan else load_module()
        workspace = plan.workspace if plan else learning.learner_workspace(module)
        target = plan.target if plan else path or learning.default_target(module)
        before = learning.fingerprints(module, workspace)
        try:
            report = grader.grade(module, target, _grade_options(args))
        except Exception as exc:  # the files asked for still say what happened
            for problem in _write_reports(_failed(module, target, args, exc), args):
                click.echo(f"Warning: {problem}", err=True)
            if isinstance(exc, CourseError):
                exc.message = clean(exc.message)  # it may quote a learner's file names
                raise
            raise CourseError(_reason(exc)) from exc
    finally:
        grader.close()
    learning.remember(module, workspace, target, report, before)
    return module, workspace, report


def _write_reports(report, args: GradeArgs) -> list[str]:
    """Write the files asked for with --json and --format, each whole or not at all; return
    what could not be written (the grade itself stands and is printed)."""
    from course.oserror import os_error
    from grader.formats import write_report

    wanted = []
    if args.json_file:
        wanted.append(("json", args.json_file))
    if args.fmt:
        wanted.append((args.fmt, args.output))
    problems = []
    for fmt, path in wanted:
        try:
            write_report(report, fmt, path)
        except OSError as exc:
            problems.append(REPORT_NOT_WRITTEN.format(fmt=fmt, why=os_error(exc, path)))
    return problems


REPORT_NOT_WRITTEN = "the {fmt} report was not written: {why}"


def _failed(module, target: Path, args: GradeArgs, exc: Exception):
    """The report of a grade that could not run: every exercise asked for at 0, and why."""
    from grader.results import not_graded

    try:
        wanted = [module.exercise(e) for e in args.exercises] or list(module.exercises)
    except CourseError:  # an unknown --exercise: the report covers every exercise
        wanted = list(module.exercises)
    return not_graded(str(target), wanted, _reason(exc))


def _reason(exc: Exception) -> str:
    from grader.sanitize import clean

    if isinstance(exc, CourseError):
        return clean(exc.message)
    return clean(f"{GRADER_FAILED} ({type(exc).__name__}: {exc})")


def _grade_batch(path: Path, args: GradeArgs) -> int:
    """Grade a class into the gradebook with a progress bar; print the summary."""
    from courseware.files import write_atomically
    from grader.batch import batch_outputs, default_jobs, describe, grade_batch
    from grader.gradebook import Gradebook

    module = load_module()
    outputs = batch_outputs(
        module, path, args.gradebook, args.csv_file, args.feedback_dir
    )  # none of them where a learner's code may be shown them
    gradebook = Gradebook(outputs.gradebook)
    bar, tally = None, _Tally()

    def start(todo: int, skipped: int) -> None:
        nonlocal bar
        if not todo:
            return
        click.echo(f"{todo} to grade{_kept(skipped)}.", err=True)
        bar = click.progressbar(
            length=todo, label="Grading", show_eta=True, show_pos=True, file=sys.stderr,
            item_show_func=tally.text,
        )  # fmt: skip
        bar.__enter__()
        tally.started = time.monotonic()

    def progress(outcome) -> None:
        tally.add(outcome)
        bar.update(1, outcome)

    try:
        with _executor(module, args) as executor:
            summary = grade_batch(
                module, path, gradebook, args.jobs or default_jobs(), _grade_options(args),
                regrade=args.regrade, progress=progress, on_start=start,
                feedback=args.feedback_dir, executor=executor,
            )  # fmt: skip
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(describe(summary, gradebook))
    if args.csv_file:
        chosen = [module.exercise(e).id for e in args.exercises]  # a slug names its id
        counted = chosen or [e.id for e in module.exercises]
        write_atomically(args.csv_file, gradebook.csv_text(counted))
    complete = all(total == max_score for _, total, max_score, _ in gradebook.totals())
    gradebook.close()
    return 0 if complete else EXIT_FAILED


def _kept(skipped: int) -> str:
    """What the batch skips and how to grade it anyway: nothing when it skips no one."""
    if not skipped:
        return ""
    return f", {skipped} already graded at their current content (--regrade grades them again)"


@dataclass
class _Tally:
    """What the batch's progress bar says beside it: the learners who could not be graded,
    and the pace, fed by each learner's outcome as it comes (from a pool or a cluster)."""

    started: float = 0.0
    done: int = 0
    failed: int = 0

    def add(self, outcome) -> None:
        self.done += 1
        self.failed += outcome.error is not None

    def text(self, _outcome) -> str:
        minutes = max(time.monotonic() - self.started, 1e-3) / 60
        return f"{self.failed} failed, {self.done / minutes:.0f}/min" if self.done else ""


def _executor(module, args: GradeArgs):
    """The Dask cluster of --scheduler, every worker set up before anyone is graded (a
    context manager); without --scheduler, none: this machine's workers grade."""
    if not args.scheduler:
        return contextlib.nullcontext()
    from grader.cluster import connect

    return connect(args.scheduler, module, _grade_options(args))


JOBS_OR_SCHEDULER = (
    "--jobs counts this machine's workers; with --scheduler the cluster's workers grade "
    "(--scheduler local:N for N worker processes here)."
)


def verify(approve_starters: bool = False, exercises: tuple[str, ...] = ()) -> int:
    """Approve the starters, or run every verification, printing each finding as it comes;
    return the exit code."""
    from courseware.authoring import CORPUS, is_authors_repository
    from courseware.content import PACKAGED, find_root
    from courseware.content import approve_starters as approve
    from grader.verify import verify as run

    root = find_root()
    if approve_starters:
        if PACKAGED in (root, *root.parents):  # the installed package is nobody's to edit
            raise CourseError(NOT_AUTHORS.format(root=root))
        ids = approve(only=tuple(load_module().exercise(e).id for e in exercises))
        click.echo(f"Approved {len(ids)} starters into starters.lock; commit it with them.")
        click.echo("Then `course verify` proves them (`--exercise ID` for one exercise).")
        return 0
    failures = skipped = 0
    for finding in run(load_module(), exercises):
        if finding.skipped:
            skipped += 1
            click.echo(f"{click.style('–', fg='yellow')} {finding.subject} {finding.claim}")
            click.echo(f"    {finding.skipped}")
            continue
        mark = click.style("✓", fg="green") if finding.ok else click.style("✗", fg="red")
        click.echo(f"{mark} {finding.subject} {finding.claim}")
        if not finding.ok:
            failures += 1
            if finding.detail:
                click.echo("    " + finding.detail.replace("\n", "\n    "))
    unchecked = f" ({skipped} not checked on this machine)" if skipped else ""
    verdict = f"{failures} claim(s) failed" if failures else "All verified"
    click.echo(f"\n{verdict}{unchecked}.")
    if not is_authors_repository(root):
        click.echo(NO_CORPUS.format(corpus=CORPUS))
    return EXIT_FAILED if failures else 0


NOT_AUTHORS = (
    "--approve-starters rewrites the course's starters.lock, and {root} is the installed "
    "package: nothing was written. Authors run it in a clone of the course's repository."
)
NO_CORPUS = "The mistake corpus ({corpus}/) is not here, so it was not checked."
