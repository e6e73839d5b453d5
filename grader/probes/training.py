"""Probe for exercise 2: run the learner's train_step for several steps on a small model and
report what it returned and the parameters after each step."""

from __future__ import annotations

import types

import torch

from grader.probes.common import reply_value
from grader.probes.models import setup


def steps(
    learner: types.ModuleType,
    recipe: dict,
    weights: list[torch.Tensor],
    stale: list[torch.Tensor],
    batches: list[list[torch.Tensor]],
) -> dict:
    """Call train_step once per (inputs, targets) batch; after each, record the returned
    value, the parameters, and the mode of each forward pass it made."""
    model, optimizer, criterion = setup(recipe, weights, stale)
    returned, params, modes = [], [], []
    for inputs, targets in batches:
        model.modes.clear()
        value = learner.train_step(model, inputs.clone(), targets.clone(), criterion, optimizer)
        returned.append(_returned(value))
        params.append([p.detach().clone() for p in model.parameters()])
        modes.append(list(model.modes))
    return {"returned": returned, "params": params, "modes": modes}


def _returned(value) -> dict:
    """What train_step returned: a float as is; a tensor described with its value."""
    if type(value) is float:
        return {"float": value}
    if type(value) is torch.Tensor:
        number = float(value.detach().reshape(-1)[0]) if value.numel() else None
        return {"tensor": number, "requires_grad": bool(value.requires_grad)}
    return reply_value(value)
