"""Reading a learner's source in the checker (it never runs here): where it reaches for
given names of torch, through imports, attributes or `getattr` with a constant name.

This is advice, not enforcement: code can always reach a name in ways no reading of the
source sees (a name built at run time, `__import__`, `exec`). And since the source is the
learner's, reading it may fail (null bytes, nesting deeper than the parser takes, more nodes
than memory holds): then it says nothing rather than fail in the checker."""

from __future__ import annotations

import ast
from collections.abc import Collection
from typing import NamedTuple

MAX_SOURCE = 1 << 20  # characters: what the runner is given at most (courseware.files)


class Use(NamedTuple):
    """One place where the source uses a torch name: what it wrote, the line, its code."""

    what: str
    line: int
    code: str


def torch_uses(source: str, names: Collection[str]) -> list[Use]:
    """Where `source` uses torch's `names` (one use per line, the most specific). Code under
    `if __name__ == "__main__":` is the learner's own test, not the graded code: left alone."""
    if type(source) is not str or len(source) > MAX_SOURCE:
        return []
    try:
        return _torch_uses(source, names)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return []


def _torch_uses(source: str, names: Collection[str]) -> list[Use]:
    tree = ast.parse(source)
    aside = {id(n) for block in _main_blocks(tree) for s in block for n in ast.walk(s)}
    torch_names, imported = _torch_imports(tree, names)
    lines = source.splitlines()
    found = []
    for node in ast.walk(tree):
        what = None if id(node) in aside else _use(node, names, torch_names, imported)
        if what:
            code = lines[node.lineno - 1].strip() if 0 < node.lineno <= len(lines) else ""
            found.append(Use(what, node.lineno, code))
    longest: dict[int, Use] = {}  # per line, the most specific name
    for use in found:
        if use.line not in longest or len(use.what) > len(longest[use.line].what):
            longest[use.line] = use
    return [longest[line] for line in sorted(longest)]


def _torch_imports(tree: ast.Module, names: Collection[str]) -> tuple[set[str], dict[str, str]]:
    """Local names bound to torch or its modules, and local names bound to one of `names`
    (mapped to the full name they stand for)."""
    torch_names: set[str] = set()
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "torch":
                    torch_names.add(alias.asname or "torch")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            for alias in node.names:
                local = alias.asname or alias.name
                if alias.name in names:
                    imported[local] = f"{node.module}.{alias.name}"
                else:
                    torch_names.add(local)
    return torch_names, imported


def _use(node: ast.AST, names, torch_names: set[str], imported: dict[str, str]) -> str | None:
    """The name a node uses, written as in the source ("nn.Linear"), or None."""
    if isinstance(node, ast.Attribute) and node.attr in names:
        chain, base = [node.attr], node.value
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if isinstance(base, ast.Name) and base.id in torch_names | imported.keys():
            return ".".join([base.id, *reversed(chain)])
    elif isinstance(node, ast.Name) and node.id in imported:
        return imported[node.id]
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value in names
    ):
        return f"getattr(..., {node.args[1].value!r})"
    return None


def _main_blocks(tree: ast.Module) -> list[list[ast.stmt]]:
    """The bodies of `if __name__ == "__main__":` at the top level of the module."""
    return [
        node.body
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    ]
