"""Checks for exercise __id__: __title__.

TODO: one paragraph: what is compared with the reference, and which mistakes are named.
"""

from __future__ import annotations

from types import ModuleType

import torch

from grader.checking import call, defines, depends, fail, points, tensor
from grader.checking.diagnosis import Mistake, diagnose
from grader.checking.explainers import Comparison, explain
from grader.checking.values import close, tolerance
from grader.learner import Learner

EXERCISE = "__id__"

test_imports = defines("__stem__")


@points(__points__)  # noqa: F821 - a placeholder
@depends("test_imports")
def test_matches_the_reference(learner: Learner, reference: ModuleType) -> None:
    """The result for a small input equals the reference's"""
    x = torch.randn(2, 3, generator=torch.Generator().manual_seed(0))
    reply = call(learner, "__stem__.run", "Your __stem__", expected="a tensor", x=x)
    got, want = tensor(reply["value"], "Your __stem__"), reference.__stem__(x)
    if not close(got, want, *tolerance()):
        related = explain(Comparison(got, want, *tolerance(), "Your __stem__"))
        fail(diagnose(got, mistakes(x), lambda a, b: close(a, b, *tolerance()), related or WRONG))


def mistakes(x: torch.Tensor) -> list[Mistake]:
    """The usual mistakes, each replayed on the check's input."""
    return [Mistake("todo", lambda: x * 2, "TODO: the mistake, named from what was seen")]


WRONG = "TODO: what was seen, what was expected, the likely cause and the next step."
