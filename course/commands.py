"""The bodies of the commands that need more than one call: parse, delegate, print."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from courseware.content import load_module
from courseware.errors import EXIT_FAILED, CourseError

GRADER_FAILED = (
    "The grader itself failed; this is not your fault. Please report it with the output of "
    "`course grade -v`"
)


def grade(path: Path, **options) -> int:
    """Check the option combination, then grade one learner or a whole class."""
    if options["fmt"] and not options["output"]:
        raise click.UsageError("--format needs -o FILE.")
    batch_only = [
        k
        for k in ("jobs", "gradebook", "csv_file", "feedback_dir", "regrade", "unsafe_no_isolation")
        if options.get(k)
    ]
    if batch_only and not options["batch"]:
        option = batch_only[0].replace("_file", "").replace("_", "-")
        raise click.UsageError(f"--{option} goes with --batch.")
    if options["batch"]:
        if path is None:
            raise click.UsageError("--batch needs SUBMISSIONS, the folder of the class's work.")
        return _grade_batch(path, options)
    return _grade_one(path, options)


def _grade_options(options: dict):
    from grader.grade import GradeOptions
    from grader.sandbox import Limits

    limits = replace(
        Limits(), request_seconds=options["timeout"], memory_bytes=options["memory"] << 20
    )
    return GradeOptions(
        exercises=options["exercises"],
        device=options["device"],
        limits=limits,
        require_isolation=options["batch"],  # a class: only with every isolation level
        allow_unsafe=options.get("unsafe_no_isolation", False),
    )


def _grade_one(path: Path, options: dict) -> int:
    """Grade `path`, print the report, write the files asked for; return the exit code."""
    from course import learning
    from grader.zygote import Zygote

    zygote = Zygote.start()  # first: it imports torch while we read the module
    try:
        from grader.grade import grade as run
        from grader.report import terminal
        from grader.sanitize import clean

        module = load_module()
        workspace = learning.learner_workspace(module)
        target = path or learning.default_target(module)
        before = learning.fingerprints(module, workspace)
        try:
            report = run(module, target, _grade_options(options), zygote=zygote)
        except Exception as exc:  # the files asked for still say what happened
            _write_reports(_failed(module, target, options, exc), options)
            if isinstance(exc, CourseError):
                exc.message = clean(exc.message)  # it may quote a learner's file names
                raise
            raise CourseError(_reason(exc)) from exc
    finally:
        zygote.close()
    learning.remember(module, workspace, target, report, before)
    _write_reports(report, options)  # first: a platform gets its results whatever happens next
    click.echo(terminal(report, verbose=options["verbose"]))
    if options["hints"] or options["all_hints"]:
        click.echo(learning.hints_text(module, workspace, report, options["all_hints"]))
    return 0 if report.all_passed else EXIT_FAILED


def _write_reports(report, options: dict) -> None:
    """The files asked for with --json and --format."""
    from grader.formats import write_report

    if options["json_file"]:
        write_report(report, "json", options["json_file"])
    if options["fmt"]:
        write_report(report, options["fmt"], options["output"])


def _failed(module, target: Path, options: dict, exc: Exception):
    """The report of a grade that could not run: every exercise asked for at 0, and why."""
    from grader.results import not_graded

    wanted = [module.exercise(e) for e in options["exercises"]] or list(module.exercises)
    return not_graded(str(target), wanted, _reason(exc))


def _reason(exc: Exception) -> str:
    from grader.sanitize import clean

    if isinstance(exc, CourseError):
        return clean(exc.message)
    return clean(f"{GRADER_FAILED} ({type(exc).__name__}: {exc})")


def _grade_batch(path: Path, options: dict) -> int:
    """Grade a class into the gradebook with a progress bar; print the summary."""
    from courseware.files import write_atomically
    from grader.batch import default_jobs, describe, grade_batch
    from grader.gradebook import Gradebook

    module = load_module()
    gradebook = Gradebook(options["gradebook"] or path.parent / f"{path.name}.gradebook.sqlite")
    bar = None

    def start(todo: int, skipped: int) -> None:
        nonlocal bar
        if not todo:
            return
        click.echo(
            f"{todo} to grade, {skipped} already graded (use --regrade to grade them again).",
            err=True,
        )
        bar = click.progressbar(length=todo, label="Grading", show_eta=True, file=sys.stderr)
        bar.__enter__()

    try:
        summary = grade_batch(
            module, path, gradebook, options["jobs"] or default_jobs(), _grade_options(options),
            regrade=options["regrade"], progress=lambda outcome: bar.update(1), on_start=start,
            feedback=options["feedback_dir"],
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(describe(summary, gradebook))
    if options["csv_file"]:
        counted = list(options["exercises"]) or [e.id for e in module.exercises]
        write_atomically(options["csv_file"], gradebook.csv_text(counted))
    complete = all(total == max_score for _, total, max_score, _ in gradebook.totals())
    gradebook.close()
    return 0 if complete else EXIT_FAILED


def verify(approve_starters: bool = False, exercises: tuple[str, ...] = ()) -> int:
    """Approve the starters, or run every verification, printing each finding as it comes;
    return the exit code."""
    from courseware.content import approve_starters as approve
    from grader.verify import verify as run

    if approve_starters:
        ids = approve()
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
    return EXIT_FAILED if failures else 0


def export_gradescope(output: Path, exercises: tuple[str, ...] = ()) -> str:
    """Write the autograder zip and say what to do with it."""
    from grader.exports import gradescope_bundle

    names = gradescope_bundle(load_module(), output, _torch_version(), exercises)
    return f"Wrote {output} ({len(names)} files). Upload it as the autograder of the assignment."


def export_classroom(output: Path, grader: str, exercises: tuple[str, ...] = ()) -> str:
    """Write a GitHub Classroom template: a learner's workspace, the lesson and quizzes to
    read, and the workflow that grades with the grader installed from `grader`."""
    import shutil

    from course.workspace import create_workspace
    from courseware.files import write_atomically
    from grader.exports import CLASSROOM_WORKFLOW, classroom_workflow

    module = load_module()
    workflow = classroom_workflow(module, grader, _torch_version(), exercises)
    create_workspace(module, output)
    for folder in ("lesson", "quizzes"):
        shutil.copytree(module.root / folder, output / folder)
    write_atomically(output / CLASSROOM_WORKFLOW, workflow)
    return CLASSROOM_DONE.format(output=output, grader=grader)


CLASSROOM_DONE = (
    "Wrote the template to {output}. Push it to a repository of your organisation, mark it a "
    "template, and choose it for the assignment. Its workflow installs the grader from "
    "{grader}: keep that location yours, and readable by the workflow."
)


def _torch_version() -> str:
    from importlib.metadata import version

    return version("torch").split("+")[0]
