"""The name this course is installed under (pip's distribution name), read once from the package
metadata, so that no engine file spells one module's name in install hints and data folders."""

from __future__ import annotations

import functools
from importlib import metadata

SCRIPT = "course.cli:entry"  # the `course` console script, declared by whichever module ships it
FALLBACK = "course"  # only when nothing installed the package (run from a bare source tree)


@functools.cache
def name() -> str:
    """The distribution that installed the `course` command, e.g. "my-module" for `pip install`."""
    for ep in metadata.entry_points(group="console_scripts", name="course"):
        if ep.value == SCRIPT and ep.dist is not None:
            return ep.dist.name
    return FALLBACK
