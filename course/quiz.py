"""`course quiz`: one bank asked in the terminal, one typed line per question.

Answers are read as lines (a letter, letters, a number or text), so the quiz works in any
terminal, piped, and under test; `--answers` scripts a whole run. A finished attempt goes to the
history (and to `--json FILE`); an interrupted one leaves both untouched.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click

from course import history
from course.history import Attempt, Outcome
from courseware.content import Module, load_module
from courseware.errors import CourseError
from courseware.files import write_atomically
from courseware.quizbank import (
    LETTERS,
    Item,
    MultipleChoice,
    Numeric,
    QuizBank,
    Score,
    SingleChoice,
    arrange,
)
from grader.report import use_colour
from grader.sanitize import clean

EXIT_INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C
REVIEW_WIDTH = 96  # a missed question's prompt is shortened to this in the review
PIPE_WIDTH = 80  # lines are wrapped to the terminal's width, or to this when output is piped
MAX_WIDTH = 100  # wider terminals still get lines of a readable length
MIN_WIDTH = 30  # below this, wrapping would leave a word or two per line
NUMBER_EXAMPLES = ("12", "0.5")  # answers to no numeric question of the bank (a test checks)
SUCH_AS = f"such as {NUMBER_EXAMPLES[0]} or {NUMBER_EXAMPLES[1]}"
HANGING = re.compile(r" *(?:[a-z]\) |\d+\. )?")  # a line's indent and list marker

Response = int | frozenset[int] | float | str


class Interrupted(CourseError):
    """Ctrl-C: the quiz stops at once, with one line saying what was kept."""

    exit_code = EXIT_INTERRUPTED

    def show(self, file: object = None) -> None:
        click.echo(self.format_message(), err=True)


@dataclass
class _Progress:
    """How far the run got, for the message when it is cut short."""

    total: int = 0
    answered: int = 0
    saved: bool = False

    def stopped(self) -> str:
        if self.saved:
            return STOPPED_SAVED
        if self.answered < self.total:
            return STOPPED_AT.format(n=self.answered + 1, total=self.total)
        return STOPPED_UNSAVED

    def input_ended(self) -> str:
        return INPUT_ENDED.format(n=self.answered + 1, total=self.total, number=NUMBER_EXAMPLES[0])


@dataclass(frozen=True)
class _Palette:
    """click.style when colour is wanted, plain text otherwise."""

    colour: bool

    def __call__(self, text: str, **style: object) -> str:
        return click.style(text, **style) if self.colour else text


def plural(n: int, noun: str) -> str:
    """`1 question`, `2 questions`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def terminal_width() -> int:
    """Columns to wrap to: COLUMNS or the terminal's width (80 when piped), within 30 to 100."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        columns = shutil.get_terminal_size((PIPE_WIDTH, 24)).columns
    else:
        columns = PIPE_WIDTH
    return min(MAX_WIDTH, max(MIN_WIDTH, columns))


def say(text: str) -> None:
    """Echo `text` wrapped to the terminal, line by line; a wrapped line hangs under its text."""
    width = terminal_width()
    for line in text.splitlines() or [""]:
        hang = " " * len(HANGING.match(line).group(0))
        wrapped = textwrap.fill(
            line, width, subsequent_indent=hang, break_long_words=False, break_on_hyphens=False
        )
        click.echo(wrapped)


def palette() -> _Palette:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return _Palette(use_colour())


def run(
    bank: str | None = None,
    *,
    seed: int | None = None,
    shuffle: bool | None = None,
    count: int | None = None,
    answers: str | None = None,
    json_path: Path | None = None,
) -> None:
    """Ask the quiz, then save the attempt; Ctrl-C exits with 130 and saves nothing partial."""
    progress = _Progress()
    try:
        _run(bank, seed, shuffle, count, answers, json_path, progress)
    except KeyboardInterrupt:
        raise Interrupted(progress.stopped()) from None
    except EOFError:
        raise CourseError(progress.input_ended()) from None


def _run(
    ref: str | None,
    seed: int | None,
    shuffle: bool | None,
    count: int | None,
    answers: str | None,
    json_path: Path | None,
    progress: _Progress,
) -> None:
    module, bank, items, seed = prepare(ref, seed, shuffle, count)
    script = read_script(answers, items) if answers is not None else None
    if json_path is not None and not json_path.parent.is_dir():
        raise CourseError(f"--json {json_path}: the folder {json_path.parent} does not exist.")
    if json_path is not None:
        _check_json(json_path)
    history.check_writable()  # before the first question: a finished attempt is never lost
    paint = palette()
    attempt = _take(bank, items, seed, script, paint, progress)
    _summary(module, items, attempt, paint)
    _save(attempt, json_path, progress, workspace_key(module))


def prepare(
    ref: str | None, seed: int | None, shuffle: bool | None, count: int | None
) -> tuple[Module, QuizBank, tuple[Item, ...], int | None]:
    """The module, the bank named, its questions in the order to ask them, and the seed."""
    module = load_module()
    bank = pick_bank(module, ref)
    shuffle = bank.shuffle if shuffle is None else shuffle
    seed = _seed(seed, bank) if shuffle else None
    if count is not None and count > len(bank.questions):
        only = plural(len(bank.questions), "question")
        raise CourseError(TOO_MANY.format(count=count, bank=bank.id, only=only))
    return module, bank, arrange(bank, shuffle=shuffle, seed=seed, count=count), seed


def attempt_of(
    bank: QuizBank, seed: int | None, started: str, outcomes: tuple[Outcome, ...]
) -> Attempt:
    """A finished attempt, scored."""
    score = round(sum(o.credit for o in outcomes), 2)
    return Attempt(bank.id, bank.title, seed, started, now(), score, len(outcomes), outcomes)


def _take(
    bank: QuizBank,
    items: tuple[Item, ...],
    seed: int | None,
    script: list[str] | None,
    paint: _Palette,
    progress: _Progress,
) -> Attempt:
    """Ask every question in turn, with feedback after each; the finished attempt."""
    progress.total = len(items)
    started = now()
    _intro(bank, items, seed, paint)
    outcomes = tuple(_ask(n, item, script, paint, progress) for n, item in enumerate(items, 1))
    return attempt_of(bank, seed, started, outcomes)


def pick_bank(module: Module, ref: str | None) -> QuizBank:
    """The bank named by id or path; the only bank when none is named."""
    banks = module.quizzes
    listing = "\n".join(
        f"  {b.id}  ({b.source}, {plural(len(b.questions), 'question')})" for b in banks
    )
    if ref is None:
        if len(banks) == 1:
            return banks[0]
        raise CourseError(CHOOSE_BANK.format(listing=listing))
    for bank in banks:
        path = _resolved(module.root / bank.source)
        if ref == bank.id or path in (_resolved(Path(ref)), _resolved(module.root / ref)):
            return bank
    raise CourseError(UNKNOWN_BANK.format(ref=ref, listing=listing))


def _resolved(path: Path) -> Path | None:
    """`path` resolved, or None when it cannot be (a link loop, a name too long)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a link loop, before Python 3.13
        return None


def _seed(seed: int | None, bank: QuizBank) -> int:
    """The option, else the bank's seed, else a fresh one (printed, so the run can be repeated)."""
    if seed is not None:
        return seed
    return bank.seed if bank.seed is not None else random.SystemRandom().randrange(100_000)


def read_script(answers: str, items: tuple[Item, ...]) -> list[str]:
    """Split `--answers` into one answer per question, checking them all before the quiz."""
    script = [clean(a).strip() for a in answers.split(";")]  # echoed as if typed
    if len(script) != len(items):
        given, asked = plural(len(script), "answer"), plural(len(items), "question")
        raise CourseError(SCRIPT_LENGTH.format(given=given, asked=asked))
    errors = []
    for n, (text, item) in enumerate(zip(script, items, strict=True), 1):
        try:
            parse(item, text)
        except ValueError as exc:
            errors.append(f"  answer {n} ({text!r}): {exc}")
    if errors:
        raise CourseError("\n".join(["--answers has answers that cannot be read:", *errors]))
    return script


def parse(item: Item, text: str) -> Response:
    """Read a typed answer as the question's kind of response; ValueError says how to type it."""
    question = item.question
    if isinstance(question, SingleChoice):
        return _choice(item, text.strip().lower())
    if isinstance(question, MultipleChoice):
        letters = [t for t in re.split(r"[\s,]+", text.strip().lower()) if t]
        if not letters:
            raise ValueError(f"type one or more letters from a to {_last(item)}, such as a,c")
        return frozenset(_choice(item, letter) for letter in letters)
    if isinstance(question, Numeric):
        return _number(text)
    if not text.strip():
        raise ValueError("type a word or a few")
    return clean(text).strip()  # typed by the learner: kept and shown again


def _choice(item: Item, letter: str) -> int:
    """The YAML index of the choice shown under `letter`."""
    shown = LETTERS[: len(item.order)]
    if len(letter) != 1 or letter not in shown:
        typed = f", not {letter!r}" if letter else ""  # an empty line: nothing to quote
        raise ValueError(f"type a letter from a to {_last(item)}{typed}")
    return item.order[shown.index(letter)]


def _last(item: Item) -> str:
    return LETTERS[len(item.order) - 1]


def _number(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"type a number, {SUCH_AS}") from None
    if not math.isfinite(value):
        raise ValueError(f"type a finite number, {SUCH_AS}")
    return value


def expected(item: Item) -> str:
    """The right answer as the learner saw the question (letters in shown order)."""
    question = item.question
    if isinstance(question, SingleChoice | MultipleChoice):
        return ",".join(sorted(item.shown(i) for i in question.correct()))
    if isinstance(question, Numeric):
        return f"{question.answer:g}{_tolerance(question)}"
    return question.answer


def _answer_lines(item: Item) -> list[str]:
    """The right answer for people: each right choice with its text, or the value."""
    question = item.question
    if not isinstance(question, SingleChoice | MultipleChoice):
        return [expected(item)]
    right = sorted((item.shown(i), question.choices[i].text) for i in question.correct())
    return [f"{letter}) {text}" for letter, text in right]


def _with_answer(lead: str, item: Item, indent: str = "") -> str:
    """`lead` followed by the right answer: on the same line if it is one line, else below."""
    lines = _answer_lines(item)
    if len(lines) == 1:
        return f"{lead} {lines[0]}"
    return "\n".join([lead, *(f"{indent}  {line}" for line in lines)])


def _tolerance(question: Numeric) -> str:
    if question.rel_tol * abs(question.answer) > question.abs_tol:
        return f" (± {question.rel_tol * 100:g}%)"
    return f" (± {question.abs_tol:g})" if question.abs_tol else ""


def _given(item: Item, response: Response) -> str:
    """A response written the way `--answers` takes it."""
    if isinstance(response, frozenset):
        return ",".join(sorted(item.shown(i) for i in response))
    if isinstance(item.question, SingleChoice):
        return item.shown(response)  # type: ignore[arg-type]
    return f"{response:g}" if isinstance(response, float) else str(response)


def _ask(
    n: int, item: Item, script: list[str] | None, paint: _Palette, progress: _Progress
) -> Outcome:
    """Show question `n`, read an answer until it can be read, and give feedback at once."""
    _show_question(n, progress.total, item, paint)
    prompt = paint("Your answer: ", bold=True)
    while True:
        if script is not None:
            text = script[n - 1]
            click.echo(f"{prompt}{text}")
        else:
            text = input(prompt)
        try:
            response = parse(item, text)
            break
        except ValueError as exc:
            say(paint(f"Please {exc}.", fg="yellow"))
    outcome = answer(item, response, paint)
    progress.answered = n
    return outcome


def answer(item: Item, response: Response, paint: _Palette) -> Outcome:
    """Score a response, show its feedback at once, and say how the question went (the
    terminal's loop and the notebook's widgets both call this)."""
    result: Score = item.question.score(response)  # type: ignore[arg-type]
    _verdict(item, result, paint)
    return Outcome(
        id=item.question.id,
        objective=item.question.objective,
        type=item.question.type,
        given=_given(item, response),
        expected=expected(item),
        credit=round(result.credit, 4),
        correct=result.correct,
    )


def _intro(bank: QuizBank, items: tuple[Item, ...], seed: int | None, paint: _Palette) -> None:
    order = f"shuffled with seed {seed} (--seed {seed} repeats it)" if seed is not None else ""
    heading = f"{bank.title}: {plural(len(items), 'question')}" + (f", {order}" if order else "")
    say(paint(heading, bold=True))
    say(INTRO)


def _show_question(n: int, total: int, item: Item, paint: _Palette) -> None:
    question = item.question
    click.echo()
    click.echo(paint(f"Question {n} of {total}", bold=True) + f"  [{question.objective}]")
    say(question.prompt)
    for letter, index in zip(LETTERS, item.order, strict=False):
        say(f"  {letter}) {question.choices[index].text}")  # type: ignore[union-attr]


def _verdict(item: Item, result: Score, paint: _Palette) -> None:
    if result.correct:
        click.echo(paint("Correct.", fg="green", bold=True))
    elif result.credit > 0:
        lead = paint(f"Partly right: {_points(result.credit)} of 1.", fg="yellow", bold=True)
        say(_with_answer(f"{lead} The answer:", item))
    else:
        say(_with_answer(paint("Not quite.", fg="red", bold=True) + " The answer:", item))
    for feedback in result.feedback:
        about = "" if feedback.choice is None else f"On {item.shown(feedback.choice)}: "
        say(f"  {about}{feedback.text}")
    say(paint("Why: ", bold=True) + item.question.explanation)


def finish(module: Module, items: tuple[Item, ...], attempt: Attempt, paint: _Palette) -> None:
    """Show the score and the review of a finished attempt, then save it to the history."""
    _summary(module, items, attempt, paint)
    _save(attempt, None, _Progress(len(items), len(items)), workspace_key(module))


def _summary(module: Module, items: tuple[Item, ...], attempt: Attempt, paint: _Palette) -> None:
    """The score, then each missed question and the objectives to revisit."""
    click.echo()
    click.echo(paint(f"Score: {_points(attempt.score)}/{attempt.max_score}", bold=True))
    missed = [(n, o) for n, o in enumerate(attempt.questions, 1) if not o.correct]
    if not missed:
        return
    click.echo(paint(f"Review of the {len(missed)} missed:", bold=True))
    for n, outcome in missed:
        item = items[n - 1]
        prompt = textwrap.shorten(item.question.prompt, REVIEW_WIDTH, placeholder=" …")
        say(f"  {n}. {prompt}")
        lead = f"     You answered {outcome.given}. The answer:"
        say(_with_answer(lead, item, indent="     "))
    texts = {o.id: o.text for o in module.objectives}
    click.echo(paint("Objectives to revisit:", bold=True))
    for objective in sorted({o.objective for _, o in missed}):
        say(f"  {objective}: {texts.get(objective, '')}")


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


def _check_json(json_path: Path) -> None:
    """--json FILE must be a file that can be written, checked before the first question."""
    import tempfile

    from course.workspace import check_report_target

    check_report_target(json_path, "--json", (".json",))
    try:
        if json_path.is_dir():
            raise IsADirectoryError(21, "it is a folder", str(json_path))
        with tempfile.TemporaryFile(dir=json_path.parent):
            pass
    except OSError as exc:
        why = exc.strerror or exc
        raise CourseError(f"--json {json_path}: cannot be written ({why}); nothing was asked yet. "
                          "Name a file in a folder you can write to.") from None  # fmt: skip


def workspace_key(module: Module) -> str:
    """The workspace an attempt belongs to, as grades and hints do: the learner's workspace
    around here (or this clone), else none."""
    from course.learning import learner_workspace

    found = learner_workspace(module)
    return found.key if found is not None else history.NOWHERE


def _save(attempt: Attempt, json_path: Path | None, progress: _Progress, workspace: str) -> None:
    """Write the history and the JSON report, with Ctrl-C held until both are done."""
    with history.interrupts_deferred():
        try:
            path = history.record(attempt, workspace)
        except CourseError as exc:  # the answers, so that the attempt can be saved later
            exc.message += "\n" + _replay(attempt)
            raise
        progress.saved = True
        if json_path is not None:
            try:
                write_atomically(json_path, json.dumps(attempt.to_dict(), indent=2) + "\n")
            except OSError as exc:
                raise CourseError(JSON_FAILED.format(path=json_path, why=exc.strerror or exc,
                                                     history=path)) from None  # fmt: skip
    say(f"Saved to the quiz history ({path}); `course quiz --history` lists attempts.")


def _replay(attempt: Attempt) -> str:
    """The command that takes the same quiz with the same answers."""
    import shlex

    answers = ";".join(o.given for o in attempt.questions)
    order = "--no-shuffle" if attempt.seed is None else f"--shuffle --seed {attempt.seed}"
    count = f"--count {len(attempt.questions)}"
    command = f"course quiz {shlex.quote(attempt.bank)} {order} {count} --answers "
    return f"{REPLAY}\n    {command}{shlex.quote(answers)}"


def show_history(bank: str | None = None) -> None:
    """List the past attempts taken in this workspace (of one bank, by id or file, or of all),
    oldest first."""
    module = load_module()
    if bank is not None:  # a bank's file names its id; an id not in the module is kept as is
        with contextlib.suppress(CourseError):
            bank = pick_bank(module, bank).id
    key = workspace_key(module)
    past = history.attempts(bank, key)
    where = f"in {key}" if key != history.NOWHERE else "outside any workspace"
    if not past:
        click.echo(NO_HISTORY.format(where=where, path=history.history_file()))
        return
    click.echo(f"Quiz history of the attempts {where} ({history.history_file()}):")
    for a in past:
        when = datetime.fromisoformat(a.finished).astimezone().strftime("%Y-%m-%d %H:%M")
        seed = f"seed {a.seed}" if a.seed is not None else "not shuffled"
        percent = a.score / a.max_score
        click.echo(f"  {when}  {a.bank}  {_points(a.score)}/{a.max_score}  {percent:.0%}  {seed}")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


INTRO = (
    "Answer with a letter (b), letters (a,c), a number or a few words, then Enter.\n"
    "Ctrl-C stops the quiz without saving it."
)
STOPPED_AT = "\nQuiz stopped at question {n} of {total}; nothing was saved."
STOPPED_UNSAVED = "\nQuiz stopped after the last question, before saving; nothing was saved."
STOPPED_SAVED = "\nQuiz stopped; the attempt had already been saved."
INPUT_ENDED = (
    "the input ended at question {n} of {total}, so nothing was saved.\n"
    "Give one answer per line, or all of them with --answers 'b;a,c;{number};a few words'."
)
TOO_MANY = "--count {count}: the bank '{bank}' has only {only}."
SCRIPT_LENGTH = (
    "--answers has {given} (separated by ';') but the quiz asks {asked}.\n"
    "Give one per question; --no-shuffle asks them in the bank's order, --count N fewer of them."
)
CHOOSE_BANK = "this module has several quiz banks; name one, as in `course quiz ID`:\n{listing}"
UNKNOWN_BANK = (
    "no quiz bank '{ref}'. Name one by id or path:\n{listing}\n"
    "A new bank must be listed under `quizzes:` in course.yaml."
)
REPLAY = "Your answers are not lost: once that is fixed, this saves the same attempt:"
JSON_FAILED = (
    "the attempt is saved in the quiz history ({history}), but --json {path} could not be "
    "written: {why}."
)
NO_HISTORY = "No quiz attempts {where} yet (history: {path}). Take one with `course quiz`."
