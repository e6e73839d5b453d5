"""The `course` command. Each command parses its options and delegates to one module,
imported inside the command so that `course --help` stays fast and never imports torch."""

from __future__ import annotations

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
