"""Report writers over the one result model: the terminal and JSON (Gradescope's key names)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import click

from courseware.files import write_atomically
from grader.results import BLOCKED, NOT_ATTEMPTED, NOT_RUN, PASSED, GradeReport

MARKS = {PASSED: "✓", BLOCKED: "–", NOT_RUN: "·"}
ISOLATION_WORDS = {
    "separate_user": "user",
    "pid_namespace": "process namespace",
    "network_namespace": "no network",
    "filesystem_view": "filesystem",
    "limits": "limits",
}


def use_colour() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def terminal(report: GradeReport, verbose: bool = False) -> str:
    """The learner's view: a line per exercise, each failing check's message, the total."""
    colour = use_colour()

    def style(text: str, **kw) -> str:
        return click.style(text, **kw) if colour else text

    lines = [style(f"Grading {report.target}", bold=True), ""]
    for ex in report.exercises:
        score = "not attempted" if ex.state == NOT_ATTEMPTED else f"{ex.score:g}/{ex.max_score:g}"
        tone = "green" if ex.complete else "yellow" if ex.score else "red"
        head = f"{ex.id}  {ex.title} ({ex.file or 'no file'})"
        lines.append(f"{head:<60} {style(score, fg=tone, bold=True)}")
        if ex.state == NOT_ATTEMPTED:
            lines.append(_indent(ex.message, 4))
        shown_blocked, said = False, set()
        for check in ex.checks:
            if (check.state == PASSED and not verbose) or (check.state == NOT_RUN and not verbose):
                continue
            if check.state == BLOCKED and not verbose:
                if not shown_blocked:
                    blocked = sum(c.state == BLOCKED for c in ex.checks)
                    lines.append(f"  {MARKS[BLOCKED]} {blocked} check(s) blocked: {check.message}")
                    shown_blocked = True
                continue
            mark = MARKS.get(check.state, "✗")
            points = f"{check.score:g}/{check.max_score:g}"
            lines.append(
                f"  {style(mark, fg='green' if check.passed else 'red')} {check.title}  [{points}]"
            )
            if check.message and check.state not in (PASSED, BLOCKED):
                repeated = check.message in said and not verbose
                lines.append(_indent("(the same as above)" if repeated else check.message, 6))
                said.add(check.message)
            if verbose and check.detail:
                lines.append(_indent(check.detail, 6))
        lines.append("")
    total = f"Total: {report.score:g}/{report.max_score:g}"
    lines.append(style(total, bold=True) + f"   ({_isolation_summary(report)})")
    if not report.all_passed:
        lines.append("Run with --hints for the next hint, -v for every check and the tracebacks.")
    return "\n".join(lines)


def _indent(text: str, spaces: int) -> str:
    wrapped = [
        textwrap.fill(part, 96, initial_indent=" " * spaces, subsequent_indent=" " * spaces)
        if len(part) > 96 and not part.startswith(" ")
        else " " * spaces + part
        for part in text.splitlines()
    ]
    return "\n".join(wrapped)


def _isolation_summary(report: GradeReport) -> str:
    isolation = next((e.isolation for e in report.exercises if e.isolation), None)
    devices = "+".join(report.devices)
    if not isolation:
        return f"devices: {devices}"
    on = [word for key, word in ISOLATION_WORDS.items() if _in_force(isolation.get(key))]
    return f"devices: {devices}; sandbox: {', '.join(on) or 'none'}"


def _in_force(level) -> bool:
    return bool(level) and not (isinstance(level, str) and level.startswith("no"))


def as_json(report: GradeReport) -> dict:
    """Gradescope's keys (score, max_score, output, tests[]), plus what else is useful."""
    tests, not_run = [], []
    for ex in report.exercises:
        if ex.state == NOT_ATTEMPTED:
            tests.append(
                _entry(
                    ex.id,
                    f"{ex.id} {ex.title}: not attempted",
                    0,
                    ex.max_score,
                    NOT_ATTEMPTED,
                    ex.message,
                )
            )
        for c in ex.checks:
            if c.state == NOT_RUN:
                not_run.append({"exercise": c.exercise, "name": c.title, "reason": c.message})
                continue
            entry = _entry(ex.id, f"{ex.id} {c.title}", c.score, c.max_score, c.state, c.message)
            entry.update(check=c.name, device=c.device, seconds=c.seconds)
            if c.detail:
                entry["detail"] = c.detail
            tests.append(entry)
    return {
        "score": report.score,
        "max_score": report.max_score,
        "output": f"{report.score:g}/{report.max_score:g} on {report.target}",
        "execution_time": report.seconds,
        "tests": tests,
        "not_run": not_run,
        "exercises": [
            {
                "id": e.id,
                "title": e.title,
                "file": e.file,
                "state": e.state,
                "score": e.score,
                "max_score": e.max_score,
            }
            for e in report.exercises
        ],
        "devices": report.devices,
        "isolation": next((e.isolation for e in report.exercises if e.isolation), {}),
        "versions": report.versions,
    }


def _entry(
    exercise: str, name: str, score: float, max_score: float, state: str, output: str
) -> dict:
    return {
        "name": name,
        "score": score,
        "max_score": max_score,
        "status": "passed" if state == PASSED else "failed",
        "output": output,
        "exercise": exercise,
        "state": state,
    }


def write_report(report: GradeReport, fmt: str, path: Path) -> None:
    """Write `report` as json, gradescope or junit, atomically."""
    from grader import exports

    if fmt == "junit":
        text = exports.junit(report)
    else:
        data = exports.gradescope(report) if fmt == "gradescope" else as_json(report)
        text = json.dumps(data, indent=2) + "\n"
    write_atomically(path, text)
