"""Probes for exercise 6: build the learner's SequenceClassifier, give it the reference's
weights, run it on a padded batch with its lengths, call masked_mean, and send back plain data
only. `lengths` always stays on the CPU, as pack_padded_sequence wants it."""

from __future__ import annotations

import contextlib
import linecache
import sys
import types
from collections.abc import Iterator

import torch

from grader.confined.probes.common import (
    MAX_DESCRIPTION,
    canonical_parameters,
    describe_structure,
    grad_of,
    kept,
    load_canonical,
    reply_value,
    same,
    wrong_type,
)
from grader.confined.runner import describe

MAX_PACKED = 4  # packing calls recorded per forward
MAX_LENGTHS = 64  # lengths recorded per packing call


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
    with packing_calls(learner.__file__) as packed:
        try:
            y = model(x, lengths)
        except Exception as exc:  # the learner's error, with how it packed the batch
            return {"error": describe(exc, learner.__file__), "packed": packed}
    reply: dict = {"y": reply_value(y), "mutated": _changed(given), "packed": packed}
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


@contextlib.contextmanager
def packing_calls(filename: str) -> Iterator[list[dict]]:
    """Record, while the block runs, each packing of a padded batch (pack_padded_sequence and
    what calls it): the learner's line that asked for it, the shape of the batch as packed,
    batch_first and the lengths. torch does not check the lengths against the dimension it
    reads as time, so a batch packed the wrong way round fails later, inside nn.LSTM."""
    vf, name = torch._VF, "_pack_padded_sequence"
    pack, found, own = getattr(vf, name), [], vars(vf).get(name)

    def recorded(padded, lengths, batch_first):
        with contextlib.suppress(Exception):  # it runs inside the learner's call
            if len(found) < MAX_PACKED:
                found.append(_packing(padded, lengths, batch_first, filename))
        return pack(padded, lengths, batch_first)

    setattr(vf, name, recorded)
    try:
        yield found
    finally:
        if own is None:
            vars(vf).pop(name, None)
        else:
            setattr(vf, name, own)  # a learner's own replacement stays theirs


def _packing(padded, lengths, batch_first, filename: str) -> dict:
    """One packing call as plain data, with the learner's line that made it (None if no
    frame of the learner's file asked for it)."""
    frame, line = sys._getframe(2), None
    while frame is not None and line is None:
        line = frame.f_lineno if frame.f_code.co_filename == filename else None
        frame = frame.f_back
    code = linecache.getline(filename, line).strip()[:MAX_DESCRIPTION] if line else ""
    shape = [int(d) for d in padded.shape] if type(padded) is torch.Tensor else []
    sizes = lengths.tolist()[:MAX_LENGTHS] if type(lengths) is torch.Tensor else []
    return {
        "line": line,
        "code": code,
        "shape": shape,
        "batch_first": bool(batch_first),
        "lengths": [int(n) for n in sizes],
    }
