"""The terminal report (the learner's view) and the one decision every writer and the quiz
share: whether to colour their output."""

from __future__ import annotations

import os
import sys
import textwrap
from typing import IO

import click

from grader.figures import text_plot
from grader.results import (
    BLOCKED,
    BLOCKED_PREFIX,
    GRADED,
    NOT_RUN,
    PASSED,
    SO_IT_CANNOT_RUN,
    ExerciseResult,
    GradeReport,
)

MARKS = {PASSED: "✓", BLOCKED: "–", NOT_RUN: "·"}
ISOLATION_WORDS = {
    "separate_user": "user",
    "pid_namespace": "process namespace",
    "network_namespace": "no network",
    "filesystem_view": "filesystem",
    "limits": "limits",
    "resource_group": "resource group",
    "own_keyring": "own keyring",
    "syscall_filter": "syscall filter",
}
NEXT_STEP = "Run with --hints for the next hint, -v for every check and the tracebacks."
NEXT_STEP_WITH_HINTS = "Run with -v for every check and the tracebacks."
NEXT_STEP_VERBOSE = "Run with --hints for the next hint."


def use_colour(stream: IO | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return not os.environ.get("NO_COLOR") and not click.utils.should_strip_ansi(
        stream or sys.stdout
    )


def terminal(
    report: GradeReport,
    verbose: bool = False,
    colour: bool | None = None,
    hints: bool = False,
    advice: str | None = None,
) -> str:
    """The learner's view: a line per exercise, each failing check's message, the total.
    Coloured when `colour` says so (default: when stdout wants colour); `hints` when the
    hints follow it (then it does not advise --hints); `advice` replaces the command-line
    advice where the learner reads the report elsewhere (feedback handed back)."""
    colour = use_colour() if colour is None else colour

    def style(text: str, **kw) -> str:
        return click.style(text, **kw) if colour else text

    lines = [style(f"Grading {report.target}", bold=True), ""]
    for ex in report.exercises:
        lines += _exercise(ex, style, verbose)
        lines.append("")
    total = f"Total: {report.score:g}/{report.max_score:g}"
    lines.append(style(total, bold=True) + f"   ({_isolation_summary(report)})")
    if not report.all_passed and (next_step := advice or _next_step(verbose, hints)):
        lines.append(next_step)
    return "\n".join(lines)


def _next_step(verbose: bool, hints: bool) -> str:
    """The options that show more, less those this run already has ("" when it has both)."""
    if hints:
        return "" if verbose else NEXT_STEP_WITH_HINTS
    return NEXT_STEP_VERBOSE if verbose else NEXT_STEP


def _exercise(ex: ExerciseResult, style, verbose: bool) -> list[str]:
    """An exercise's head line, then its cases (blocked ones summed up unless verbose)."""
    score = f"{ex.score:g}/{ex.max_score:g}" if ex.state == GRADED else ex.state.replace("_", " ")
    tone = "green" if ex.complete else "yellow" if ex.score else "red"
    head = f"{ex.id}  {ex.title} ({ex.file or 'no file'})"
    lines = [f"{head:<60} {style(score, fg=tone, bold=True)}"]
    lines += [_indent(f"Note: {note}.", 4) for note in ex.notes]
    blocked = sum(c.state == BLOCKED for c in ex.checks)
    shown_blocked, said = False, set()
    for case in ex.cases(not_run=verbose):
        if case.check is None:  # the exercise did not run: its reason
            lines.append(_indent(case.output, 4))
        elif case.state == PASSED and not verbose:
            continue
        elif case.state == BLOCKED and not verbose:
            if not shown_blocked:
                why = case.output.removeprefix(BLOCKED_PREFIX)
                if blocked > 1 and why.endswith(SO_IT_CANNOT_RUN):
                    why = why.removesuffix(SO_IT_CANNOT_RUN) + ", so they cannot run"
                lines.append(f"  {MARKS[BLOCKED]} {blocked} check(s) blocked: {why}")
                shown_blocked = True
        else:
            mark = style(MARKS.get(case.state, "✗"), fg="green" if case.state == PASSED else "red")
            lines.append(f"  {mark} {case.title}  [{case.score:g}/{case.max_score:g}]")
            if case.output and case.state not in (PASSED, BLOCKED):
                repeated = case.output in said and not verbose
                shown = "(the same as above)" if repeated else case.output
                lines.append(_indent(shown, 6, quoted=True))
                said.add(case.output)
            if verbose and case.detail:
                lines.append(_indent(case.detail, 6))
            for figure in case.figures if verbose else ():
                lines.append(textwrap.indent(text_plot(figure), " " * 6))
    return lines


def _indent(text: str, spaces: int, quoted: bool = False) -> str:
    """`text` indented by `spaces`, its lines over 96 characters wrapped. A line indented in
    `text` (code, a traceback) is kept whole, unless `quoted`: a message's own indented lines
    (the error it quotes) are wrapped at their indent."""
    return "\n".join(_wrap(part, spaces, quoted) for part in text.splitlines())


def _wrap(line: str, spaces: int, quoted: bool) -> str:
    own = len(line) - len(line.lstrip(" "))
    if len(line) <= 96 or (own and not quoted):
        return " " * spaces + line
    indent = " " * (spaces + own)
    return textwrap.fill(line.lstrip(" "), 96, initial_indent=indent, subsequent_indent=indent)


def _isolation_summary(report: GradeReport) -> str:
    devices = "+".join(report.devices)
    if not report.isolation:
        return f"devices: {devices}"
    on = [word for key, word in ISOLATION_WORDS.items() if _in_force(report.isolation.get(key))]
    missing = report.isolation.get("missing")
    lacking = f"; NOT confined by: {', '.join(missing)}" if missing else ""
    sandbox = "sandbox"
    if report.isolation.get("backend") == "portable":  # grader/portable.py
        sandbox = "portable backend (weaker than Linux's sandbox: for your own code)"
    return f"devices: {devices}; {sandbox}: {', '.join(on) or 'none'}{lacking}"


def _in_force(level) -> bool:
    return bool(level) and not (isinstance(level, str) and level.startswith("no"))
