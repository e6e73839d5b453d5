"""Probe for exercise __id__: call the learner's __stem__ on the checker's input and send
back plain data only."""

from __future__ import annotations

import types

import torch

from grader.confined.probes.common import reply_value


def run(learner: types.ModuleType, x: torch.Tensor) -> dict:
    """__stem__(x), as plain data: a copy of the tensor it returns, never the object itself."""
    # TODO: also send what a diagnosis needs to see (calls made, inputs changed), or delete this
    return {"value": reply_value(learner.__stem__(x))}
