"""Probes for exercise 6: build the learner's SequenceClassifier, give it the reference's
weights, run it on a padded batch with its lengths, call masked_mean, and send back plain data
only. `lengths` always stays on the CPU, as pack_padded_sequence wants it."""

from __future__ import annotations

import types

import torch

from grader.probes.common import (
    canonical_parameters,
    describe_structure,
    grad_of,
    kept,
    load_canonical,
    reply_value,
    same,
    wrong_type,
)


def build(learner: types.ModuleType, sizes: list[int]) -> dict:
    """Construct SequenceClassifier(*sizes) and describe how it is made."""
    model = learner.SequenceClassifier(*sizes)
    if not isinstance(model, torch.nn.Module):
        return wrong_type(model, f"SequenceClassifier{tuple(sizes)}")
    return describe_structure(model)


def classify(
    learner: types.ModuleType,
    sizes: list[int],
    weights: list[torch.Tensor],
    x: torch.Tensor,
    lengths: torch.Tensor,
    device: str = "cpu",
    weighting: torch.Tensor | None = None,
) -> dict:
    """forward(x, lengths) with the reference's weights, x on `device`; with a `weighting` of
    the scores' shape, also backpropagate (scores * weighting).sum() and return each
    parameter's gradient (a plain sum would vanish through a softmax)."""
    model = learner.SequenceClassifier(*sizes)
    load_canonical(model, weights)
    model.to(device)
    x = x.to(device)
    given = {"x": (x, kept(x)), "lengths": (lengths, kept(lengths))}
    y = model(x, lengths)
    reply: dict = {"y": reply_value(y), "mutated": _changed(given)}
    wanted = weighting is not None and type(y) is torch.Tensor and y.shape == weighting.shape
    if wanted and y.requires_grad:
        (y * weighting.to(device)).sum().backward()
        reply["grads"] = [grad_of(p) for p in canonical_parameters(model)]
    return reply


def mean(
    learner: types.ModuleType, steps: torch.Tensor, lengths: torch.Tensor, device: str = "cpu"
) -> dict:
    """masked_mean(steps, lengths), steps on `device`, lengths on the CPU."""
    steps = steps.to(device)
    given = {"steps": (steps, kept(steps)), "lengths": (lengths, kept(lengths))}
    result = learner.masked_mean(steps, lengths)
    return {"value": reply_value(result), "mutated": _changed(given)}


def _changed(given: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> list[str]:
    """The names of the tensors the learner's code changed in place (each: itself, a copy)."""
    return [name for name, (now, before) in given.items() if not same(now, before)]
