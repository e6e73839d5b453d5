"""The `course` command. Each command parses its options and delegates to one module,
imported inside the command so that `course --help` stays fast and never imports torch."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from course import __version__
from course.oserror import os_error
from courseware.errors import EXIT_USAGE, CourseError
from grader.formats import FORMATS

EXIT_INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C


def _unicode_output() -> None:
    """Reports print ✓, ✗, – and ·: a pipe or a file gets them in UTF-8 whatever the code page
    (Windows' cp1252 cannot encode them: `course grade > out.txt` would end in a traceback), a
    terminal in its own encoding, '?' for what it cannot show."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
        if encoding == "utf8" or not hasattr(stream, "reconfigure"):
            continue
        if stream.isatty():
            stream.reconfigure(errors="replace")
        else:
            stream.reconfigure(encoding="utf-8")


def entry() -> None:
    """The console script. After a command that imported torch, leave with os._exit once the
    output is flushed: tearing torch down at exit costs about a second and saves nothing (every
    file is already written and closed, every runner already killed)."""
    if sys.stdin is None:  # started with stdin closed: every question gets "end of input"
        sys.stdin = open(os.devnull)  # noqa: SIM115 (for the life of the process)
    _unicode_output()
    try:
        code = main.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except (click.Abort, EOFError, KeyboardInterrupt) as exc:
        code = _stopped(exc)
    except SystemExit as exc:
        code = exc.code
    except OSError as exc:  # a file or folder the command needed, past every nearer handler
        click.echo(f"Error: {os_error(exc)}", err=True)
        code = EXIT_USAGE
    code = code if isinstance(code, int) else 0
    if "torch" not in sys.modules:
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _stopped(exc: BaseException) -> int:
    """Ctrl-C (which click turns into Abort) exits with 130; a declined or unanswered prompt
    with 1."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, KeyboardInterrupt) or isinstance(cause, KeyboardInterrupt):
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    if isinstance(exc, EOFError) or isinstance(cause, EOFError):
        click.echo("Aborted: the input ended before an answer.", err=True)
    else:
        click.echo("Aborted.", err=True)
    return 1


def _finite(param: click.Parameter, value: float | None) -> float | None:
    """click's FloatRange lets NaN through (no comparison with it is true)."""
    if value is not None and value != value:
        raise click.BadParameter("not a number; give seconds, such as 10.", param=param)
    return value


def exercise_option(help: str):
    """`--exercise ID` (repeatable, into `exercises`), as every command that takes it spells it."""
    return click.option("--exercise", "exercises", multiple=True, metavar="ID", help=help)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="course")
def main() -> None:
    """Module 12 of 26 of Deep Learning with PyTorch: Long Short-Term Memory networks.

    Learners: `course init` (a workspace; a clone is one already), `course build` (the
    lesson), then `course watch` or `course grade`, `course progress`, `course quiz`.
    Instructors: `course grade SUBMISSIONS --batch`, `course export gradescope`. Authors:
    `course validate`, `course verify`. Run `course COMMAND --help` for the details of each.
    """
    try:
        os.getcwd()
    except OSError:
        raise CourseError(NO_CWD) from None


NO_CWD = (
    "the current folder no longer exists (it was deleted or moved). "
    "`cd` into your workspace again, then run the command."
)


@main.command()
def validate() -> None:
    """Check course.yaml, the quiz banks and every exercise's files.

    Reports every problem at once as FILE:LINE: MESSAGE and exits with 2 if there are any.
    """
    from course.validate import validate as run

    click.echo(run())


@main.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JSON (Gradescope's key names, and more) to this file.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    help="Write the results in this format to the file given with -o.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File for --format."
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda", "mps"]),
    default="auto",
    show_default=True,
    help="auto: CPU, and CUDA or MPS (Apple GPU) as well when present.",
)
@exercise_option("Grade only this exercise (repeatable): its id, slug or file name.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=3600),
    callback=lambda ctx, param, value: _finite(param, value),
    default=10.0,
    show_default=True,
    help="Seconds allowed for each call into the learner's code.",
)
@click.option(
    "--memory",
    type=click.IntRange(min=256, max=1 << 20),  # 1 TiB: beyond that, no limit can be set
    default=4096,
    show_default=True,
    help="Memory cap of the learner's code, in MiB.",
)
@click.option("--hints", is_flag=True, help="Show the next hint of each exercise not yet passing.")
@click.option("--all-hints", is_flag=True, help="Show every hint of those exercises.")
@click.option(
    "-v", "--verbose", is_flag=True, help="Show every check, tracebacks and printed output."
)
@click.option(
    "--batch", is_flag=True, help="PATH holds one folder or .zip per learner: grade the class."
)
@click.option(
    "--jobs", type=click.IntRange(min=1), help="Batch: learners graded at once [default: cores]."
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Batch: grade on a Dask cluster: a running scheduler's tcp://HOST:PORT, or local:N "
    "for N worker processes here (install the course's [cluster] extra).",
)
@click.option(
    "--gradebook",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Batch: the SQLite gradebook [default: PATH.gradebook.sqlite beside PATH].",
)
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Batch: also write one row per learner to this CSV file.",
)
@click.option(
    "--regrade", is_flag=True, help="Batch: grade again learners already in the gradebook."
)
@click.option(
    "--unsafe-no-isolation",
    is_flag=True,
    help="Batch: grade even where learner code cannot be fully confined (reports say so).",
)
@click.option(
    "--strict-names",
    is_flag=True,
    help="Batch: grade exercise files by their exact names only; a misnamed one (Training.py, "
    "'training (1).py') is named and flagged, not graded.",
)
@click.option(
    "--feedback-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Batch: write each learner's report (ID.txt and ID.json) here, to hand back.",
)
def grade(path: Path, **options) -> None:
    """Grade exercises: a file, an exercise folder, or a folder holding them.

    PATH defaults to your workspace's exercises/ folder: the clone you are in, or the folder
    `course init` made. Grades of your own files are remembered for `course progress`.

    The learner's code runs in a separate, confined process; the checks compare it with the
    reference solution. Exit status: 0 all passed, 1 something to fix, 2 usage or content error.

    With --batch, PATH holds one folder or .zip per learner (its name is the learner id); the
    results go into a gradebook, and running again resumes where it stopped.
    """
    from course.commands import grade as run

    raise SystemExit(run(path, **options))


EXERCISE_CHOICE = exercise_option(
    "Count only this exercise (repeatable) [default: every exercise]."
)


@main.group()
def export() -> None:
    """Package the grader for the platforms instructors use."""


@export.command("gradescope")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default="autograder.zip",
    show_default=True,
    help="Where to write the zip to upload to Gradescope.",
)
@EXERCISE_CHOICE
def export_gradescope(output: Path, exercises: tuple[str, ...]) -> None:
    """Write Gradescope's autograder zip: setup.sh, run_autograder and the course's wheel.

    Upload it as the assignment's autograder; each submission is then graded by the same
    `course grade`, sandbox included, inside Gradescope's container, and scored out of the
    points of the exercises it counts. The wheel is the module as released (the approved
    starters of starters.lock), never your edits in exercises/.
    """
    from course.export import export_gradescope as run

    click.echo(run(output, exercises))


@export.command("classroom")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default="classroom-template",
    show_default=True,
    help="Folder to write the template repository to (missing or empty).",
)
@click.option(
    "--grader",
    required=True,
    metavar="REQUIREMENT",
    help="Where the workflow installs the grader from, as pip takes it: a git URL of your "
    "private copy of the course, a wheel's URL, a package name on your index.",
)
@EXERCISE_CHOICE
def export_classroom(output: Path, grader: str, exercises: tuple[str, ...]) -> None:
    """Write a GitHub Classroom template repository for this module.

    It holds the learner's exercises (statements and released starters), a README that says
    how to install the course, the lesson and the quizzes, and .github/workflows/classroom.yml,
    which installs the grader from --grader (pin it), grades the exercise files alone with the
    installed course's content and checks on every push, and reports the points to GitHub
    Classroom. No reference solution and no check is in it.
    """
    from course.export import export_classroom as run

    click.echo(run(output, grader, exercises))


@main.command()
@click.option(
    "--approve-starters",
    is_flag=True,
    help="Only write starters.lock from the starters in exercises/ (after changing one).",
)
@exercise_option("Prove only this exercise (repeatable).")
def verify(approve_starters: bool, exercises: tuple[str, ...]) -> None:
    """Prove the exercises: solutions pass, starters fail, the mistake corpus is caught.

    For authors. Checks that exercises/ holds the approved starters of starters.lock, grades
    solutions/, the approved starters, and every file of tests/corpus (whose header names the
    check that must catch it), and exits with 1 if any claim fails. A claim that needs what
    this machine lacks (CUDA) is reported as not checked, with the reason.
    """
    from course.commands import verify as run

    raise SystemExit(run(approve_starters, exercises))


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the site to.  [default: _site/ in your workspace]",
)
@click.option(
    "--with-solutions",
    is_flag=True,
    help="Include the reference solutions (an instructor's build).",
)
def build(output: Path | None, with_solutions: bool) -> None:
    """Render the module as a static HTML site that works offline.

    Writes the overview, the lesson, one page per exercise and the quiz. The learner's build
    has no solutions in it. A folder is replaced only if an earlier `course build` made it.
    """
    from course.build import build as run

    click.echo(run(output, with_solutions=with_solutions))


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the notebooks to.  [default: notebooks/ in your workspace]",
)
@click.option("--force", is_flag=True, help="Replace notebooks whose exercise cell you edited.")
def notebooks(output: Path | None, force: bool) -> None:
    """Write one Jupyter notebook per exercise (NN_slug.ipynb), for Jupyter or Colab.

    Each holds the statement, the starter in a cell that begins with %%exercise NN_slug, and
    cells that check your code (in a confined process, as `course grade` does) and show hints.
    A notebook whose exercise cell holds your work is kept unless --force.
    """
    from course.notebooks import write as run

    click.echo(run(output, force))


def _fits_64_bits(value: int | None) -> int | None:
    """A seed the quiz history's INTEGER column can keep (checked here, not by an IntRange,
    whose 19-digit bounds would fill --help)."""
    if value is not None and not -(2**63) <= value < 2**63:
        raise click.BadParameter("the seed must lie within ±2**63 (64 bits).")
    return value


@main.command()
@click.argument("bank", required=False)
@click.option(
    "--seed",
    type=int,
    callback=lambda ctx, param, value: _fits_64_bits(value),
    help="Seed for shuffling and drawing: the same seed, the same quiz.",
)
@click.option(
    "--shuffle/--no-shuffle",
    default=None,
    help="Shuffle questions and choices, or ask the bank as written.  [default: as the bank says]",
)
@click.option("--count", type=click.IntRange(min=1), help="Ask only N questions from the bank.")
@click.option(
    "--answers",
    metavar="'A;B;…'",
    help="Answer every question from this list instead of asking, e.g. 'b;a,c;2560;forget gate'.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write each question's outcome to this JSON file.",
)
@click.option("--history", "show_history", is_flag=True, help="List past attempts and exit.")
def quiz(
    bank: str | None,
    seed: int | None,
    shuffle: bool | None,
    count: int | None,
    answers: str | None,
    json_path: Path | None,
    show_history: bool,
) -> None:
    """Take a quiz on this module in the terminal.

    BANK is a bank's id or file (default: the module's only bank). Type a letter (b), several
    letters (a,c), a number or a few words, then Enter; feedback comes at once and a review of
    the missed questions at the end. Finished attempts are kept in a history in your data
    folder (COURSE_DATA_DIR moves it); Ctrl-C stops without saving. Set NO_COLOR for plain
    output.
    """
    from course import quiz as session

    if show_history:
        session.show_history(bank)
        return
    session.run(bank, seed=seed, shuffle=shuffle, count=count, answers=answers, json_path=json_path)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option(
    "--upgrade",
    is_flag=True,
    help="In an existing workspace: add new exercises and statements, replace untouched "
    "starters; never touch a file you edited.",
)
def init(folder: Path | None, upgrade: bool) -> None:
    """Make a workspace to do the exercises in (default folder: the course's package name).

    It holds exercises/NN_slug/ with each statement and starter. Every command works inside
    it; the course content comes from the installed package. FOLDER must not exist yet or be
    empty.
    """
    from course.learning import init as run

    click.echo(run(folder, upgrade))


@main.command()
@click.argument("exercise", metavar="EXERCISE")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
def reset(exercise: str, yes: bool) -> None:
    """Put an exercise's starter back, keeping your version as a backup.

    EXERCISE is an id (its folder in exercises/), its slug (the id without its number) or its
    file name. The backup goes to your data folder, never into exercises/, and the command says
    where.
    """
    from course.learning import reset as run

    click.echo(run(exercise, yes))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the progress as JSON.")
def progress(as_json: bool) -> None:
    """Show each exercise's state, your best quiz score and the module's total.

    States: not_attempted (still the starter), failing, done, and stale (the file changed
    since its last `course grade`).
    """
    from course.learning import show_progress

    click.echo(show_progress(as_json))


@main.command()
@click.argument("exercise", required=False)
def watch(exercise: str | None) -> None:
    """Grade an exercise again every time you save it.

    Starts on EXERCISE (an id, number, slug or file name), else on the first exercise not yet
    done; saving another exercise's file switches to it. Keys: h the next hint, n the next
    exercise, l the list of exercises, q quit (Ctrl-C too). Without a terminal it prints one
    line per grade: `<exercise id>  <score>/<max>`.
    """
    from course.watch import watch as run

    run(exercise)


@main.group()
def new() -> None:
    """Scaffold new content (authors)."""


@new.command("exercise")
@click.argument("slug")
@click.option("--title", help="The exercise's title  [default: from SLUG].")
@click.option(
    "--objective",
    "objectives",
    multiple=True,
    required=True,
    metavar="ID",
    help="A learning objective of course.yaml the exercise practises (repeatable).",
)
@click.option(
    "--points", type=click.IntRange(min=1), default=10, show_default=True, help="Its points."
)
def new_exercise(slug: str, title: str | None, objectives: tuple[str, ...], points: int) -> None:
    """Make every file of a new exercise, numbered after the last, and its course.yaml entry.

    SLUG names it (e.g. padding: exercise NN_padding, file padding.py). Each file is a
    template that says what to write; CONTRIBUTING.md walks through them in order, and
    `course validate` lists what is still missing.
    """
    from course.scaffold import new_exercise as run

    click.echo(run(slug, title, objectives, points))
