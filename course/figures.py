"""The site's figures: inline SVG with a text alternative, drawn at build time.

Nothing here imports torch, and nothing here knows a module's subject: a module declares its
figures as files in site/figures/ (course/build.py), a chart as JSON data that names its own
title, axes and reading (written by the module's own script), a drawing as SVG. Colours come
from classes in site.css, so the figures follow dark mode.
"""

from __future__ import annotations

import math
import re
from html import escape

from markupsafe import Markup

from courseware.errors import CourseError

WIDTH, HEIGHT = 680, 380
LEFT, RIGHT, TOP, BOTTOM = 70, 170, 20, 56  # margins around the plot area
LABEL_GAP = 15  # the least vertical distance between two line labels
TABLE_DISTANCES = (0, 10, 25, 50, 75, 99)
SVG_TAG = re.compile(r"<svg\b[^>]*>", re.DOTALL)


def line_chart(figure_id: str, data: dict, caption: Markup) -> Markup:
    """A log-scale line chart of each series against its index, worded by `data["chart"]`."""
    series: dict[str, list[float]] = data["series"]
    words: dict[str, str] = data["chart"]
    steps = len(next(iter(series.values())))
    values = [v for norms in series.values() for v in norms]
    low, high = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(distance: float) -> float:
        return LEFT + distance / (steps - 1) * plot_w

    def y(value: float) -> float:
        return TOP + (high - math.log10(value)) / (high - low) * plot_h

    parts = [_axes(x, y, steps, low, high, words)]
    ends = _spread({name: y(norms[-1]) for name, norms in series.items()})
    for i, (name, norms) in enumerate(series.items()):
        points = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in enumerate(norms))
        parts.append(f'<polyline class="series series-{i}" points="{points}"/>')
        parts.append(
            f'<text class="fig-text series-label-{i}" x="{x(steps - 1) + 8:.1f}" '
            f'y="{ends[name] + 4:.1f}">{escape(name)}</text>'
        )
    far = min(50, steps - 1)
    description = (
        f"Line chart, logarithmic vertical axis from 1e{low} to 1e{high}. "
        + words["reading"].format(x=far)
        + " "
        + "; ".join(f"{_plain(norms[far])} for the {name}" for name, norms in series.items())
        + ". "
        + data["description"]
    )
    table = _table(series, words["x_column"])
    return _figure(figure_id, words["title"], description, "".join(parts), caption, table)


def inline_svg(name: str, svg: str, caption: Markup) -> Markup:
    """A hand-drawn SVG file (with its own <title> and <desc>) as an accessible figure."""
    match = SVG_TAG.search(svg)
    if match is None:
        raise CourseError(f"figure {name}: no <svg> element in its file")
    svg = svg[match.start() :].strip()
    return Markup(f'<figure class="figure" id="figure-{name}">{svg}{_caption(caption)}</figure>')


def _axes(x, y, steps: int, low: int, high: int, words: dict[str, str]) -> str:
    """Grid lines, tick labels and axis titles."""
    parts = []
    decades = max(1, math.ceil((high - low) / 7))
    for exponent in range(high, low - 1, -decades):
        level = y(10.0**exponent)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{x(steps - 1):.1f}" y1="{level:.1f}" '
            f'y2="{level:.1f}"/>'
        )
        parts.append(
            f'<text class="fig-text" x="{LEFT - 8}" y="{level + 4:.1f}" text-anchor="end">'
            f'10<tspan dy="-6" font-size="10">{_minus(exponent)}</tspan></text>'
        )
    for distance in range(0, steps, 20 if steps > 50 else 10):
        left = x(distance)
        parts.append(
            f'<line class="grid" x1="{left:.1f}" x2="{left:.1f}" y1="{TOP}" '
            f'y2="{HEIGHT - BOTTOM}"/>'
        )
        parts.append(
            f'<text class="fig-text" x="{left:.1f}" y="{HEIGHT - BOTTOM + 18}" '
            f'text-anchor="middle">{distance}</text>'
        )
    mid_x, mid_y = LEFT + (WIDTH - LEFT - RIGHT) / 2, TOP + (HEIGHT - TOP - BOTTOM) / 2
    parts.append(
        f'<text class="fig-text" x="{mid_x:.0f}" y="{HEIGHT - 12}" text-anchor="middle">'
        f"{escape(words['x_axis'])}</text>"
        f'<text class="fig-text" x="16" y="{mid_y:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {mid_y:.0f})">{escape(words["y_axis"])}</text>'
        f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{x(steps - 1) - LEFT:.1f}" '
        f'height="{HEIGHT - TOP - BOTTOM}"/>'
    )
    return "".join(parts)


def _spread(ends: dict[str, float]) -> dict[str, float]:
    """Move the line labels apart vertically so that no two overlap."""
    placed: dict[str, float] = {}
    floor = -math.inf
    for name, level in sorted(ends.items(), key=lambda item: item[1]):
        placed[name] = max(level, floor + LABEL_GAP)
        floor = placed[name]
    return placed


def _table(series: dict[str, list[float]], x_column: str) -> str:
    """The numbers behind the chart at a few indices, as a table in a disclosure widget."""
    steps = len(next(iter(series.values())))
    distances = [d for d in TABLE_DISTANCES if d < steps]
    head = "".join(f'<th scope="col">{escape(name)}</th>' for name in series)
    rows = "".join(
        f'<tr><th scope="row">{d}</th>'
        + "".join(f"<td>{_html(norms[d])}</td>" for norms in series.values())
        + "</tr>"
        for d in distances
    )
    return (
        "<details><summary>The numbers behind the chart</summary>"
        '<div class="table-wrap" tabindex="0"><table>'
        f'<thead><tr><th scope="col">{escape(x_column)}</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody>"
        "</table></div></details>"
    )


def _figure(name: str, title: str, description: str, body: str, caption: Markup, extra: str):
    """An <svg role="img"> named by its <title> and <desc>, with a caption, in a <figure>."""
    svg = (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{name}-title {name}-desc">'
        f'<title id="{name}-title">{escape(title)}</title>'
        f'<desc id="{name}-desc">{escape(description)}</desc>{body}</svg>'
    )
    return Markup(
        f'<figure class="figure" id="figure-{name}">{svg}{_caption(caption, extra)}</figure>'
    )


def _caption(caption: Markup, extra: str = "") -> str:
    """The caption, then `extra`: a figcaption must be the first or last child of its figure."""
    return f"<figcaption>{caption}{extra}</figcaption>" if caption or extra else ""


def _minus(number: int) -> str:
    return str(number).replace("-", "−")


def _plain(value: float) -> str:
    return f"{value:.1e}"


def _html(value: float) -> str:
    mantissa, exponent = f"{value:.1e}".split("e")
    exponent = int(exponent)
    return mantissa if exponent == 0 else f"{mantissa} × 10<sup>{_minus(exponent)}</sup>"
