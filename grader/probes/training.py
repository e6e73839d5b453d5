"""Probe for exercise 2: run the learner's train_step for several steps on a small model and
report, for each step, what it returned, the parameters after it, the mode of each forward
pass, and what the step did in order (zero_grad, forward, loss, backward, step)."""

from __future__ import annotations

import types

import torch

from grader.probes.common import copied, described, training_calls
from grader.probes.models import setup


def steps(
    learner: types.ModuleType,
    recipe: dict,
    weights: list[torch.Tensor],
    stale: list[torch.Tensor],
    batches: list[list[torch.Tensor]],
) -> dict:
    """Call train_step once per (inputs, targets) batch; after each, record the returned
    value, the parameters, the mode of each forward pass, the step's calls in order and the
    total norm of the gradients each optimizer.step() found (a step that clips the gradient
    norm, as the lesson does, is replayed with the same max_norm)."""
    model, optimizer, criterion = setup(recipe, weights, stale)
    returned, params, modes, calls, norms = [], [], [], [], []
    seen: list[float] = []
    optimizer.register_step_pre_hook(lambda *_: seen.append(_grad_norm(model)))
    events: list[str] = []
    model.register_forward_pre_hook(lambda *_: events.append("forward"))
    criterion.register_forward_hook(lambda *_: events.append("loss"))
    for inputs, targets in batches:
        model.modes.clear()
        events.clear()
        seen.clear()
        with training_calls(events):
            value = learner.train_step(model, inputs.clone(), targets.clone(), criterion, optimizer)
        returned.append(_returned(value))
        params.append([copied(p) for p in model.parameters()])
        modes.append(list(model.modes))
        calls.append(list(events[:50]))
        norms.append(list(seen[:5]))
    return {"returned": returned, "params": params, "modes": modes, "calls": calls, "norms": norms}


def _grad_norm(model: torch.nn.Module) -> float:
    """The total L2 norm of the model's gradients, as clip_grad_norm_ computes it."""
    grads = [p.grad.detach().norm() for p in model.parameters() if p.grad is not None]
    return float(torch.stack(grads).norm()) if grads else 0.0


def _returned(value) -> dict:
    """What train_step returned: a float as is; a tensor described with its value."""
    if type(value) is float:
        return {"float": value}
    if type(value) is torch.Tensor:
        number = float(value.detach().reshape(-1)[0]) if value.numel() else None
        return {"tensor": number, "requires_grad": bool(value.requires_grad)}
    return {"wrong_type": described(value)}
