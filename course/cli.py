"""The `course` command. Each command parses its options and delegates to one module,
imported inside the command so that `course --help` stays fast and never imports torch."""

from __future__ import annotations

from pathlib import Path

import click

from course import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="course")
def main() -> None:
    """Module 12 of 26 of Deep Learning with PyTorch: Long Short-Term Memory networks.

    Learners: `course quiz`, `course grade exercises/`. Authors: `course validate`,
    `course verify`. Run `course COMMAND --help` for the details of each.
    """


@main.command()
def validate() -> None:
    """Check course.yaml, the quiz banks and every exercise's files.

    Reports every problem at once as FILE:LINE: MESSAGE and exits with 2 if there are any.
    """
    from course.validate import validate as run

    click.echo(run())


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default="exercises")
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JSON (Gradescope's key names) to this file.",
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="auto: CPU, and CUDA as well when a GPU is present.",
)
@click.option(
    "--exercise",
    "exercises",
    multiple=True,
    metavar="ID",
    help="Grade only this exercise (repeatable), e.g. 01_lstm_network.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds allowed for each call into your code.",
)
@click.option(
    "--memory",
    type=click.IntRange(min=256),
    default=4096,
    show_default=True,
    help="Memory cap of your code, in MiB.",
)
@click.option("--hints", is_flag=True, help="Show the hints of every exercise not yet complete.")
@click.option(
    "-v", "--verbose", is_flag=True, help="Show every check, tracebacks and printed output."
)
def grade(path, json_file, device, exercises, timeout, memory, hints, verbose) -> None:
    """Grade your exercises: a file, an exercise folder, or a folder holding them.

    Your code runs in a separate, confined process; the checks compare it with the reference
    solution. Exit status: 0 all passed, 1 something to fix, 2 usage or content error.
    """
    from course.commands import grade as run

    raise SystemExit(run(path, json_file, device, exercises, timeout, memory, hints, verbose))
