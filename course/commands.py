"""The bodies of the commands that need more than one call: parse, delegate, print."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from course.content import load_module
from course.errors import EXIT_FAILED


def grade(
    path: Path,
    json_file: Path | None,
    device: str,
    exercises: tuple[str, ...],
    timeout: float,
    memory_mib: int,
    hints: bool,
    verbose: bool,
) -> int:
    """Grade `path`, print the report, write JSON on request; return the exit code."""
    from grader.grade import GradeOptions
    from grader.grade import grade as run
    from grader.report import terminal, write_json
    from grader.sandbox import Limits

    module = load_module()
    limits = replace(Limits(), request_seconds=timeout, memory_bytes=memory_mib << 20)
    report = run(module, path, GradeOptions(exercises=exercises, device=device, limits=limits))
    click.echo(terminal(report, hints=hints, verbose=verbose))
    if json_file is not None:
        write_json(report, json_file)
    return 0 if report.all_passed else EXIT_FAILED


def verify() -> int:
    """Run every verification, printing each finding as it comes; return the exit code."""
    from grader.verify import verify as run

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
