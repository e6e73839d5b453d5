"""Figures a check attaches to its result, and the small text plot `course grade -v` draws.

A check that compares curves calls `record_figure` where it holds both: the values the runner
replied with (the learner's) and the checker's own (the reference's, the true series). The
plugin gives the figures recorded during a check to that check's result, and every report
carries them (the notebook draws them with matplotlib). Nothing here runs learner code, and
nothing imports torch: tensors are read with `.tolist()`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from grader.results import Figure, Series

MAX_POINTS = 500  # values per curve kept in a report
WIDTH, HEIGHT = 60, 12  # of the text plot, in characters
MARKS = "o*+x"  # one per series, in order; '#' where two meet

_recorded: dict[str, Figure] = {}  # the figures of the check running now, by title


def curve(label: str, values, x: Sequence[float] | None = None) -> Series:
    """A series from a tensor, list or tuple of numbers (None where one is not finite)."""
    flat = values.reshape(-1).tolist() if hasattr(values, "reshape") else list(values)
    y = tuple(_finite(v) for v in flat[:MAX_POINTS])
    return Series(label, y, tuple(float(v) for v in x[:MAX_POINTS]) if x is not None else None)


def record_figure(title: str, *series: Series, **options) -> None:
    """Attach a figure to the check that is running (options: caption, xlabel, ylabel,
    log_y, points); a later figure with the same title replaces it, so a check that tries
    several cases shows the last, the one that failed."""
    _recorded[title] = Figure(title, series, **options)


def take_recorded() -> list[Figure]:
    """The figures recorded since the last call (the plugin's, once per check)."""
    figures = list(_recorded.values())
    _recorded.clear()
    return figures


def text_plot(figure: Figure, width: int = WIDTH, height: int = HEIGHT) -> str:
    """The figure as a few lines of text: one mark per series, a legend and the ranges."""
    drawn = [(s, _drawable(s, figure.log_y)) for s in figure.series]
    values = [v for _, pts in drawn for _, v in pts]
    xs = [x for _, pts in drawn for x, _ in pts]
    if not values:
        return f"{figure.title}: nothing to draw (no finite value)"
    low, high = min(values), max(values)
    left, right = min(xs), max(xs)
    grid = [[" "] * width for _ in range(height)]
    for mark, (_, points) in zip(MARKS, drawn, strict=False):
        for x, v in points:
            col = _scale(x, left, right, width)
            row = height - 1 - _scale(v, low, high, height)
            grid[row][col] = mark if grid[row][col] in (" ", mark) else "#"
    scale = "log10 " if figure.log_y else ""
    head = f"{figure.title}" + (f" ({figure.caption})" if figure.caption else "")
    lines = [head, f"{scale}{figure.ylabel or 'value'}: {_number(high)}"]
    lines += [f"  |{''.join(row)}".rstrip() for row in grid]
    lines.append(f"  +{'-' * width}  {figure.xlabel or 'x'}: {_number(left)} to {_number(right)}")
    lines.append(f"{scale}{figure.ylabel or 'value'} at the bottom: {_number(low)}")
    legend = [f"{mark} {s.label}" for mark, (s, _) in zip(MARKS, drawn, strict=False)]
    return "\n".join([*lines, "  " + "   ".join(legend)])


def _drawable(series: Series, log_y: bool) -> list[tuple[float, float]]:
    """The (x, y) points of a series that can be drawn (positive ones only on a log scale)."""
    xs = series.x or tuple(range(len(series.y)))
    points = [(float(x), v) for x, v in zip(xs, series.y, strict=False) if v is not None]
    if log_y:
        return [(x, math.log10(v)) for x, v in points if v > 0]
    return points


def _scale(value: float, low: float, high: float, cells: int) -> int:
    if high <= low:
        return cells // 2
    return min(cells - 1, max(0, round((value - low) / (high - low) * (cells - 1))))


def _finite(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _number(value: float) -> str:
    return f"{value:.3g}"
