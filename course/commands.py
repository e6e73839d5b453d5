"""The bodies of the commands that need more than one call: parse, delegate, print."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from courseware.content import load_module
from courseware.errors import EXIT_FAILED


def grade(path: Path, **options) -> int:
    """Check the option combination, then grade one learner or a whole class."""
    if options["fmt"] and not options["output"]:
        raise click.UsageError("--format needs -o FILE.")
    batch_only = [k for k in ("jobs", "gradebook", "csv_file") if options[k]] + (
        ["regrade"] if options["regrade"] else []
    )
    if batch_only and not options["batch"]:
        raise click.UsageError(f"--{batch_only[0].replace('_file', '')} goes with --batch.")
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
    return GradeOptions(exercises=options["exercises"], device=options["device"], limits=limits)


def _grade_one(path: Path, options: dict) -> int:
    """Grade `path`, print the report, write the files asked for; return the exit code."""
    from course import learning
    from grader.zygote import Zygote

    zygote = Zygote.start()  # first: it imports torch while we read the module
    try:
        from grader.formats import write_report
        from grader.grade import grade as run
        from grader.report import terminal

        module = load_module()
        workspace = learning.learner_workspace(module)
        target = path or learning.default_target(module)
        before = learning.fingerprints(module, workspace)
        report = run(module, target, _grade_options(options), zygote=zygote)
    finally:
        zygote.close()
    learning.remember(module, workspace, target, report, before)
    click.echo(terminal(report, verbose=options["verbose"]))
    if options["hints"] or options["all_hints"]:
        click.echo(learning.hints_text(module, workspace, report, options["all_hints"]))
    if options["json_file"]:
        write_report(report, "json", options["json_file"])
    if options["fmt"]:
        write_report(report, options["fmt"], options["output"])
    return 0 if report.all_passed else EXIT_FAILED


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
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(describe(summary, gradebook))
    if options["csv_file"]:
        write_atomically(options["csv_file"], gradebook.csv_text([e.id for e in module.exercises]))
    complete = all(total == max_score for _, total, max_score, _ in gradebook.totals())
    gradebook.close()
    return 0 if complete else EXIT_FAILED


def verify(approve_starters: bool = False) -> int:
    """Run every verification, printing each finding as it comes; return the exit code."""
    from courseware.content import approve_starters as approve
    from grader.verify import verify as run

    if approve_starters:
        ids = approve()
        click.echo(f"Approved {len(ids)} starters into starters.lock; commit it with them.")

    failures = 0
    for finding in run(load_module()):
        mark = click.style("✓", fg="green") if finding.ok else click.style("✗", fg="red")
        click.echo(f"{mark} {finding.subject} {finding.claim}")
        if not finding.ok:
            failures += 1
            if finding.detail:
                click.echo("    " + finding.detail.replace("\n", "\n    "))
    click.echo(f"\n{'All verified.' if not failures else f'{failures} claim(s) failed.'}")
    return EXIT_FAILED if failures else 0


def export_gradescope(output: Path) -> str:
    """Write the autograder zip and say what to do with it."""
    from importlib.metadata import version

    from grader.exports import gradescope_bundle

    names = gradescope_bundle(load_module(), output, version("torch").split("+")[0])
    return f"Wrote {output} ({len(names)} files). Upload it as the autograder of the assignment."
