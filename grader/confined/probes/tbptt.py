"""Probe for exercise 7: the learner's train_tbptt on a ChunkModel, one call per sequence;
reports the parameters after each call, what each call returned, and, per call, the forward
calls it made (the chunk each was given and how the state came in)."""

from __future__ import annotations

import types

import torch

from grader.confined.probes.common import copied, reply_value
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
    reply: dict = {"params": [], "returned": [], "calls": []}
    end = 0
    for inputs, targets in sequences:
        try:
            value = learner.train_tbptt(
                model, inputs.clone(), targets.clone(), chunk_len, criterion, optimizer
            )
        except Exception as exc:  # the learner's error, with the calls seen so far
            reply["error"] = describe(exc, learner.__file__)
            break
        finally:
            start, end = end, len(_record(model))
            reply["calls"].append(_calls(_record(model)[start:end]))
        reply["params"].append([copied(p) for p in model.parameters()])
        reply["returned"].append(_losses(value))
    return reply


def _record(model: torch.nn.Module) -> list:
    """The model's record of its forward calls (at most ChunkModel.LIMIT), or [] when the
    learner's code replaced it."""
    calls = vars(model).get("calls")
    return calls[: ChunkModel.LIMIT] if type(calls) is list else []


def _calls(calls: list) -> list[dict]:
    """Recorded forward calls as plain data the learner's code cannot shape (an entry it
    replaced is left out)."""
    return [
        {"x": copied(c["x"]), "state": c["state"]}
        for c in calls
        if type(c) is dict and type(c.get("x")) is torch.Tensor and c.get("state") in STATES
    ]


def _losses(value) -> list | dict:
    """The chunk losses returned: a list of numbers (or what each was instead)."""
    if type(value) is not list:
        return reply_value(value) if type(value) is not tuple else {"wrong_type": "a tuple"}
    return [reply_value(v) for v in value[:100]]
