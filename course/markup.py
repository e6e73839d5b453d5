"""Markdown to HTML at build time: tables, LaTeX math as MathML, code highlighted by Pygments.

The pages need no JavaScript to show an equation or colour a line of code. `$...$` is inline
math and `$$...$$` on its own lines is display math (latex2mathml; its `aligned` environment is
broken, so write one equation per `$$` block or use `array`). A fenced block whose info string is
`figure NAME` is replaced by the figure of that name, its body becoming the caption.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight as pygmentize
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from courseware.errors import CourseError

LIGHT_STYLE = "default"  # Pygments styles with enough contrast for WCAG AA on our backgrounds
DARK_STYLE = "github-dark"

Figure = Callable[[Markup], Markup]  # draws a figure around its caption


@dataclass(frozen=True)
class Heading:
    """A section heading, for a page's table of contents."""

    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Rendered:
    """A Markdown document as HTML, with its first `#` heading and its section headings."""

    title: str
    html: Markup
    headings: tuple[Heading, ...]


def render(text: str, figures: Mapping[str, Figure] | None = None) -> Rendered:
    """Render Markdown `text`; `figures` draws each ```figure NAME``` block from its caption."""
    md = _markdown(figures or {})
    tokens = md.parse(text)
    headings = tuple(_headings(tokens))
    title = next((h.text for h in headings if h.level == 1), "")
    html = md.renderer.render(tokens, md.options, {})
    return Rendered(title, Markup(html), tuple(h for h in headings if h.level > 1))


def inline(text: str) -> Markup:
    """Render one paragraph of Markdown without the <p>: for labels, legends and feedback."""
    return Markup(_plain_markdown().renderInline(text).strip())


def code_block(code: str, language: str = "python") -> Markup:
    """Highlighted code in a scrollable block with a copy button (shown by site.js)."""
    try:
        lexer = get_lexer_by_name(language) if language else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    spans = pygmentize(code, lexer, HtmlFormatter(nowrap=True))
    return Markup(
        '<div class="code">'
        '<button type="button" class="copy" hidden>Copy</button>'
        f'<pre class="highlight" tabindex="0"><code>{spans}</code></pre>'
        "</div>\n"
    )


def math(latex: str, display: bool) -> str:
    """LaTeX as a MathML element, raising CourseError with the formula if it does not parse."""
    try:
        return latex_to_mathml(latex, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises many kinds, all meaning "bad LaTeX"
        raise CourseError(f"cannot convert the LaTeX ${latex}$ to MathML: {exc}") from exc


def highlight_css() -> str:
    """The stylesheet for highlighted code: the light style, and the dark one in dark mode."""
    light = HtmlFormatter(style=LIGHT_STYLE).get_style_defs(".highlight")
    dark = HtmlFormatter(style=DARK_STYLE).get_style_defs(".highlight")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


@cache
def _plain_markdown() -> MarkdownIt:
    return _markdown({})


def _markdown(figures: Mapping[str, Figure]) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    md.use(dollarmath_plugin, allow_digits=False, renderer=lambda tex, o: math(tex, False))
    md.use(anchors_plugin, min_level=1, max_level=3)

    def fence(self, tokens: list[Token], idx: int, options, env) -> str:
        token = tokens[idx]
        kind, _, name = token.info.strip().partition(" ")
        if kind != "figure":
            return code_block(token.content, kind)
        if name not in figures:
            known = ", ".join(sorted(figures)) or "none"
            raise CourseError(f"unknown figure '{name}' in the Markdown; the figures are: {known}")
        return figures[name](Markup(md.renderInline(token.content.strip())))

    def math_block(self, tokens: list[Token], idx: int, options, env) -> str:
        return f'<div class="math-display">{math(tokens[idx].content.strip(), True)}</div>\n'

    def table_open(self, tokens: list[Token], idx: int, options, env) -> str:
        return '<div class="table-wrap" tabindex="0">\n<table>\n'

    def table_close(self, tokens: list[Token], idx: int, options, env) -> str:
        return "</table>\n</div>\n"

    md.add_render_rule("fence", fence)
    md.add_render_rule("math_block", math_block)
    md.add_render_rule("table_open", table_open)
    md.add_render_rule("table_close", table_close)
    return md


def _headings(tokens: list[Token]):
    """Yield every heading with the id the anchors plugin gave it."""
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[i + 1]
            text = "".join(c.content for c in inline.children or () if c.type != "math_inline")
            yield Heading(int(token.tag[1]), str(token.attrs.get("id", "")), text.strip())
