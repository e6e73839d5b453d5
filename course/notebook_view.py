"""How a notebook shows a check: the report (`course grade --json`'s) as HTML for Jupyter and
as plain text elsewhere, failures first, always with a line `Score: X/Y`; and each figure a
check recorded as a PNG drawn with matplotlib (a text plot where matplotlib is missing).
Only what the runner replied and the checker computed is drawn: nothing here runs code."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from html import escape

from grader.results import BLOCKED, NOT_ATTEMPTED, NOT_RUN, PASSED, Figure

ORDER = {PASSED: 3, NOT_RUN: 2, BLOCKED: 1}  # failures first, then blocked, then the rest
MARKS = {PASSED: "✓", BLOCKED: "–", NOT_RUN: "·"}
COLOURS = {PASSED: "#1a7f37", BLOCKED: "#9a6700", NOT_RUN: "#6e7781"}
STYLE = "font-family: system-ui, sans-serif; line-height: 1.4"


@dataclass(frozen=True)
class View:
    """One output of a notebook cell: plain text, and the same as HTML where it can show."""

    text: str
    html: str


def report_view(exercise: str, title: str, report: dict, notes: tuple[str, ...]) -> View:
    """A check's report: the score, each check with its points and message, failures first."""
    (ex,) = [e for e in report["exercises"] if e["id"] == exercise]
    score = f"Score: {ex['score']:g}/{ex['max_score']:g}"
    if ex["state"] == NOT_ATTEMPTED:
        return message_view(exercise, title, NOT_ATTEMPTED_TEXT.format(id=exercise), score)
    tests = sorted(report["tests"], key=lambda t: ORDER.get(t["state"], 0))
    text = [f"{exercise}  {title}", score, *(f"Note: {n}." for n in notes)]
    rows = []
    for t in tests:
        mark, points = MARKS.get(t["state"], "✗"), f"{t['score']:g}/{t['max_score']:g}"
        name = t["name"].removeprefix(f"{exercise} ")
        text.append(f"{mark} {name}  [{points}]")
        text += [f"    {line}" for line in t["output"].splitlines() if t["state"] != PASSED]
        rows.append(_row(mark, name, points, t))
    text += ["", _footer(report, ex)]
    html = [f"<h4>{escape(exercise)}: {escape(title)}</h4>", f"<p><strong>{score}</strong></p>"]
    html += [f"<p><em>Note: {escape(n)}.</em></p>" for n in notes]
    html += ["<table>", *rows, "</table>", f"<p><small>{escape(_footer(report, ex))}</small></p>"]
    return View("\n".join(text), _wrap(html))


def message_view(exercise: str, title: str, message: str, score: str) -> View:
    """A check that could not grade: why, what to do, and the score it gives."""
    text = f"{exercise}  {title}\n{score}\n{message}"
    html = [f"<h4>{escape(exercise)}: {escape(title)}</h4>", f"<p><strong>{score}</strong></p>"]
    html.append(f"<p>{escape(message)}</p>")
    return View(text, _wrap(html))


def text_view(text: str) -> View:
    """Plain text, shown as such in HTML too."""
    return View(text, _wrap([f'<pre style="white-space: pre-wrap">{escape(text)}</pre>']))


def figures(report: dict) -> list[Figure]:
    """The figures of the checks that did not pass; where all passed, the last one drawn."""
    failed = [f for t in report["tests"] if t["state"] != PASSED for f in t.get("figures", ())]
    passed = [f for t in report["tests"] if t["state"] == PASSED for f in t.get("figures", ())]
    return [Figure.from_dict(f) for f in failed or passed[-1:]]


def png(figure: Figure) -> str | None:
    """The figure drawn by matplotlib, as base64 PNG; None where matplotlib is missing."""
    try:
        from matplotlib.figure import Figure as Canvas
    except ImportError:
        return None
    canvas = Canvas(figsize=(6.4, 3.2), dpi=80, layout="constrained")
    axes = canvas.subplots()
    for series, style in zip(figure.series, ("-", "--", ":"), strict=False):
        x = series.x or range(len(series.y))
        y = [_plotted(v, figure.log_y) for v in series.y]
        marker = "o" if figure.points else ""
        axes.plot(x, y, linestyle="" if figure.points else style, marker=marker, label=series.label)
    if figure.log_y:
        axes.set_yscale("log")
    axes.set(xlabel=figure.xlabel, ylabel=figure.ylabel)
    axes.set_title(f"{figure.title}\n{figure.caption}" if figure.caption else figure.title)
    axes.legend(fontsize="small")
    buffer = io.BytesIO()
    canvas.savefig(buffer, format="png", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _plotted(value: float | None, log: bool) -> float:
    """A value as matplotlib draws it: a gap (NaN) where none is, or a log scale cannot."""
    return float("nan") if value is None or (log and value <= 0) else value


def _row(mark: str, name: str, points: str, test: dict) -> str:
    colour = COLOURS.get(test["state"], "#cf222e")
    message = test["output"] if test["state"] != PASSED else ""
    detail = f'<div style="white-space: pre-wrap">{escape(message)}</div>' if message else ""
    return (
        f'<tr><td style="color: {colour}; vertical-align: top">{mark}</td>'
        f'<td style="text-align: left">{escape(name)}{detail}</td>'
        f'<td style="vertical-align: top; white-space: nowrap">{points}</td></tr>'
    )


def _footer(report: dict, ex: dict) -> str:
    """Where the code ran, and the next step."""
    devices = "+".join(report.get("devices") or ["cpu"])
    missing = (report.get("isolation") or {}).get("missing")
    confined = f"NOT confined by: {', '.join(missing)}" if missing else "confined"
    done = ex["score"] == ex["max_score"]
    step = "Full marks." if done else f'hint("{ex["id"]}") shows the next hint.'
    return f"Graded in a separate process ({confined}; devices: {devices}). {step}"


def _wrap(parts: list[str]) -> str:
    return f'<div style="{STYLE}">' + "\n".join(parts) + "</div>"


NOT_ATTEMPTED_TEXT = (
    "Not attempted: the exercise cell is still the starter. Replace its TODOs, run the cell "
    '(keep its first line, %%exercise {id}), then run check("{id}") again.'
)
