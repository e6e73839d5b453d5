"""Probes for exercise 1: build the learner's LSTMNetwork, give it the reference's weights,
run it, and report what came out."""

from __future__ import annotations

import types

import torch

from grader.probes.common import (
    canonical_parameters,
    describe_structure,
    load_canonical,
    reply_value,
    wrong_type,
)


def build(learner: types.ModuleType, sizes: list[int]) -> dict:
    """Construct LSTMNetwork(*sizes) and describe how it is made."""
    model = learner.LSTMNetwork(*sizes)
    if not isinstance(model, torch.nn.Module):
        return wrong_type(model, f"LSTMNetwork{tuple(sizes)}")
    return describe_structure(model)


def forward(
    learner: types.ModuleType,
    sizes: list[int],
    weights: list[torch.Tensor],
    x: torch.Tensor,
    device: str = "cpu",
    dtype: str = "float32",
    grads: bool = False,
    repeat: int = 1,
) -> dict:
    """Run forward on `x` (`repeat` times) with the reference's weights; with `grads`, also
    backpropagate the sum of the output and return each parameter's gradient."""
    model = learner.LSTMNetwork(*sizes)
    load_canonical(model, weights)
    kind = getattr(torch, dtype)
    model.to(device=device, dtype=kind)
    x = x.to(device=device, dtype=kind)
    before = x.clone()
    outputs = [model(x) for _ in range(repeat)]
    reply: dict = {"y": [reply_value(y) for y in outputs], "mutated": not torch.equal(x, before)}
    y = outputs[0]
    if grads and type(y) is torch.Tensor and y.requires_grad:
        y.sum().backward()
        reply["grads"] = [
            None if p.grad is None else p.grad.detach().cpu().clone()
            for p in canonical_parameters(model)
        ]
    return reply
