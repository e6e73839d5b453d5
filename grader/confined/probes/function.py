"""A probe for the simplest kind of exercise, a function or a class to call: any module of the
course can check with it without a probe of its own."""

from __future__ import annotations

import types
from typing import Any

from grader.confined.probes.common import reply_value, wrong_type


def call(learner: types.ModuleType, function: str, args: list, build: list | None = None) -> dict:
    """learner.<function>(*args), or learner.<function>(*build)(*args) for a class (a layer
    built with `build`, then called): what it returned, as plain data."""
    target: Any = getattr(learner, function)
    if build is not None:
        target = target(*build)
        if not callable(target):
            return wrong_type(target, f"{function}{tuple(build)}")
    return {"value": reply_value(target(*args))}
