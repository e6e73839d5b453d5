"""A module's own explanations of library errors, in its own words.

The grader explains a learner's exception with generic meanings (grader.checking.errors); a
module that knows what an error means in its subject (a layer it teaches refusing an input of
the wrong shape, say) declares it in `grader/checks/meanings.py`, beside its checks:

    MEANINGS = [
        (r"a pattern of the exception's message (groups)", "What it means: {0}."),
    ]

Its pairs are tried before the generic ones; `{0}`, `{1}`... are the pattern's groups. The file
is read as data (literals only, never run) and checked here, so that `course validate` reports
a broken one with its line and `course grade` refuses to grade with it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from courseware.errors import ContentError, Problem

FILE = Path("grader") / "checks" / "meanings.py"
NAME = "MEANINGS"
Meaning = tuple[str, str]  # (a pattern of the exception's message, what it means)


def load(root: Path) -> tuple[Meaning, ...]:
    """The meanings the module at `root` declares (none without the file); a ContentError
    listing every problem of a broken file."""
    meanings, problems = read(root)
    if problems:
        raise ContentError(problems)
    return meanings


def read(root: Path) -> tuple[tuple[Meaning, ...], list[Problem]]:
    """The meanings declared at `root`, and the problems of those that cannot be used."""
    path, label = root / FILE, FILE.as_posix()
    if not path.is_file():
        return (), []
    try:
        tree = ast.parse(path.read_text("utf-8"), label)
    except (SyntaxError, ValueError) as exc:
        return (), [Problem(label, getattr(exc, "lineno", None) or 1, f"not Python: {exc}")]
    value = _assigned(tree)
    if not isinstance(value, (ast.List, ast.Tuple)):
        return (), [Problem(label, getattr(value, "lineno", 1), NOT_A_LIST)]
    entries = [_entry(label, item) for item in value.elts]
    meanings = tuple(e for e in entries if not isinstance(e, Problem))
    return meanings, [e for e in entries if isinstance(e, Problem)]


def _assigned(tree: ast.Module) -> ast.expr | None:
    """The value of the module's top-level `MEANINGS = ...`, if it has one."""
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == NAME for t in targets):
            return node.value
    return None


def _entry(label: str, node: ast.expr) -> Meaning | Problem:
    """One declared pair, or what is wrong with it."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        value = None
    if not (type(value) is tuple and len(value) == 2 and all(type(v) is str for v in value)):
        return Problem(label, node.lineno, NOT_A_PAIR)
    pattern, text = value
    try:
        groups = re.compile(pattern).groups
    except re.error as exc:
        return Problem(label, node.lineno, BAD_PATTERN.format(error=exc))
    try:
        text.format(*["x"] * groups)
    except (IndexError, KeyError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        return Problem(label, node.lineno, BAD_TEXT.format(groups=groups, error=error))
    return value


NOT_A_LIST = (
    f"declare {NAME} = [(pattern, explanation), ...] here, a list of pairs of string literals "
    "(courseware/meanings.py says how)"
)
NOT_A_PAIR = (
    "each entry of MEANINGS is a pair of string literals: (a pattern of the exception's "
    "message, what it means)"
)
BAD_PATTERN = "this pattern is not a regular expression ({error}): fix it"
BAD_TEXT = (
    "this explanation cannot be filled with the pattern's {groups} group(s) ({error}): name "
    "them {{0}}, {{1}}... and write a literal brace as {{{{ or }}}}"
)
