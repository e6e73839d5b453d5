"""YAML files read with line numbers kept, and validated into pydantic models.

Every content error must say `file:line: message`. PyYAML keeps a mark on each node of the
composed tree, so we index the line of every key and list item by its location (the same tuple
of keys and indices that pydantic reports in its errors) and translate errors back to lines.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from courseware.errors import Problem

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=pydantic.BaseModel)
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 3x faster


@dataclass
class Document:
    """A parsed YAML file: its data and the line of every location in it."""

    path: Path
    label: str  # the path as shown to people (relative to the course root)
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line(self, loc: Loc) -> int:
        """The line of the deepest known location on the way to `loc` (1-based)."""
        best, here = self.lines.get((), 1), ()
        for part in loc:
            if (*here, part) in self.lines:
                here = (*here, part)
                best = self.lines[here]
        return best

    def problem(self, loc: Loc, message: str) -> Problem:
        return Problem(self.label, self.line(loc), message)


def load(path: Path, label: str, problems: list[Problem]) -> Document | None:
    """Parse `path`; on a syntax error or duplicate key, record problems and return None
    (syntax) or the document (duplicates, which YAML would otherwise resolve silently)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(label, 1, "file not found"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(label, 1, f"cannot read the file: {exc}"))
        return None
    try:
        node = yaml.compose(text, Loader=LOADER)
        data = yaml.load(text, Loader=LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problems.append(Problem(label, line, f"YAML syntax error: {exc.problem or exc.context}"))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(label, 1, f"YAML error: {exc}"))
        return None
    doc = Document(path, label, data)
    if node is not None:
        _index(node, (), doc, problems)
    return doc


def _index(node: yaml.Node, loc: Loc, doc: Document, problems: list[Problem]) -> None:
    doc.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key in seen:
                line = key_node.start_mark.line + 1
                problems.append(Problem(doc.label, line, f"duplicate key '{key}'"))
                continue
            seen.add(key)
            doc.lines[(*loc, key)] = key_node.start_mark.line + 1
            _index(value_node, (*loc, key), doc, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*loc, i), doc, problems)


def validate(model: type[M], doc: Document, problems: list[Problem], **context: Any) -> M | None:
    """Validate `doc.data` as `model`, translating every pydantic error into a Problem."""
    try:
        return model.model_validate(doc.data, context=context or None)
    except pydantic.ValidationError as exc:
        for error in exc.errors(include_url=False):
            problems.append(doc.problem(error["loc"], _message(error, model)))
        return None


def _message(error: Any, model: type[pydantic.BaseModel]) -> str:
    loc, kind = error["loc"], error["type"]
    where = ".".join(str(part) for part in loc)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, sorted(_field_names(model)), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else "; remove it or check the spelling"
        return f"unknown key '{where}'{hint}"
    if kind == "missing":
        return f"missing required key '{where}'"
    msg = error["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return f"{where}: {msg}" if where else msg


def _field_names(model: type[pydantic.BaseModel], seen: set[type] | None = None) -> set[str]:
    """All field names of `model` and the models nested in it, for "did you mean" hints."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names = set(model.model_fields)
    for info in model.model_fields.values():
        for arg in _types_in(info.annotation):
            names |= _field_names(arg, seen)
    return names


def _types_in(annotation: Any) -> list[type[pydantic.BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    found = []
    for arg in getattr(annotation, "__args__", ()):
        found += _types_in(arg)
    return found
