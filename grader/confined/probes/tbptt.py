"""Probe for exercise 7: the learner's train_tbptt on a ChunkModel, one call per sequence;
reports the parameters after each call, what each call returned, every forward call (the
chunk it was given and how the state came in), how many of them each call had made, and the
training calls in order."""

from __future__ import annotations

import types

import torch

from grader.confined.probes.common import copied, reply_value, training_calls
from grader.confined.probes.models import ChunkModel, chunk_setup
from grader.confined.runner import describe

STATES = ("none", "detached", "attached")  # how a state reached the model (models.state_kind)


def train(
    learner: types.ModuleType,
    weights: list[torch.Tensor],
    sequences: list[list[torch.Tensor]],
    chunk_len: int,
    lr: float,
) -> dict:
    """train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer) once per
    (inputs, targets) sequence, on one model and optimizer. An error comes back with the
    forward calls made until then (which say how the state reached the model)."""
    model, optimizer, criterion = chunk_setup(weights, lr)
    reply: dict = {"params": [], "returned": [], "events": [], "forwards": []}
    for inputs, targets in sequences:
        events: list[str] = []
        try:
            with training_calls(events):
                value = learner.train_tbptt(
                    model, inputs.clone(), targets.clone(), chunk_len, criterion, optimizer
                )
        except Exception as exc:  # the learner's error, with the calls seen so far
            reply["error"] = describe(exc, learner.__file__)
            break
        reply["params"].append([copied(p) for p in model.parameters()])
        reply["returned"].append(_losses(value))
        reply["events"].append(events[:200])
        calls = vars(model).get("calls")
        reply["forwards"].append(len(calls) if type(calls) is list else 0)  # calls until now
    reply["calls"] = _calls(model)
    return reply


def _calls(model: torch.nn.Module) -> list[dict]:
    """The model's record of its forward calls, as plain data the learner's code cannot shape
    (an entry it replaced is left out)."""
    calls = vars(model).get("calls")
    if type(calls) is not list:
        return []
    return [
        {"x": copied(c["x"]), "state": c["state"]}
        for c in calls[: ChunkModel.LIMIT]
        if type(c) is dict and type(c.get("x")) is torch.Tensor and c.get("state") in STATES
    ]


def _losses(value) -> list | dict:
    """The chunk losses returned: a list of numbers (or what each was instead)."""
    if type(value) is not list:
        return reply_value(value) if type(value) is not tuple else {"wrong_type": "a tuple"}
    return [reply_value(v) for v in value[:100]]
