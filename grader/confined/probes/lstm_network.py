"""Probes for exercise 1: build the learner's LSTMNetwork, give it the reference's weights,
run it, and report what came out and what the learner built and did: each LSTM's
batch_first, the shapes its input and states had, and the tensor the head was given."""

from __future__ import annotations

import types

import torch
import torch.nn as nn

from grader.confined.probes.common import (
    built_model,
    canonical_parameters,
    copied,
    grad_of,
    kept,
    load_canonical,
    recurrent_and_linear,
    reply_value,
    same,
)
from grader.confined.runner import describe

HEAD_ELEMENTS = 10_000  # the head's input is sent back up to this size (else its shape only)


def build(learner: types.ModuleType, sizes: list[int]) -> dict:
    """Construct LSTMNetwork(*sizes) and describe how it is made."""
    return built_model(learner.LSTMNetwork, "LSTMNetwork", sizes)


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
    backpropagate the sum of the output and return each parameter's gradient and name. What
    the first call did is in "seen", even when it raised."""
    model = learner.LSTMNetwork(*sizes)
    load_canonical(model, weights)
    kind = getattr(torch, dtype)
    model.to(device=device, dtype=kind)
    x = x.to(device=device, dtype=kind)
    before = kept(x)
    seen = Seen(model)
    built = {
        "batch_first": [bool(m.batch_first) for m in recurrent_and_linear(model)[0]],
        "dropout": _dropout(model),
    }
    try:
        outputs = [model(x)]
    except Exception as exc:  # the learner's error, with what it had done so far
        return {"error": describe(exc, learner.__file__), "built": built, "seen": seen.done()}
    first = seen.done()
    outputs += [model(x) for _ in range(repeat - 1)]
    reply = {
        "y": [reply_value(y) for y in outputs],
        "mutated": not same(x, before),
        "built": built,
        "seen": first,
    }
    y = outputs[0]
    if grads and type(y) is torch.Tensor and y.requires_grad:
        y.sum().backward()
        reply |= _gradients(model)
    return reply


def _dropout(model: nn.Module) -> float:
    """The largest dropout probability in the model: of an nn.LSTM between its layers, or of a
    dropout module (0.0 when nothing drops anything)."""
    found = [0.0]
    for m in model.modules():
        if isinstance(m, nn.LSTM) and m.num_layers > 1:
            found.append(float(m.dropout))
        elif isinstance(m, nn.modules.dropout._DropoutNd):
            found.append(float(m.p))
    return max(found)


def _gradients(model: nn.Module) -> dict:
    """Each parameter's gradient (in the reference's order) and its name in the learner's model."""
    names = {id(p): name for name, p in model.named_parameters()}
    params = canonical_parameters(model)
    return {
        "grads": [grad_of(p) for p in params],
        "names": [names.get(id(p), "?") for p in params],
    }


class Seen:
    """Records, during the first forward, the shapes and dtypes each nn.LSTM was given (input
    and states), before it runs (so also for a call that raises), and the tensor the first
    nn.Linear (the head) was given."""

    def __init__(self, model: nn.Module) -> None:
        self.lstm: list[dict] = []
        self.head: torch.Tensor | list[int] | None = None
        lstms, linears = recurrent_and_linear(model)
        self.hooks = [m.register_forward_pre_hook(self._on_lstm, with_kwargs=True) for m in lstms]
        self.hooks += [m.register_forward_hook(self._on_head) for m in linears[:1]]

    def _on_lstm(self, module, args, kwargs) -> None:
        given = [*args, *kwargs.values()]
        states = given[1] if len(given) > 1 and type(given[1]) in (tuple, list) else ()
        self.lstm.append(
            {
                "input": _shape(given[0]) if given else None,
                "dtype": _dtype(given[0]) if given else None,
                "states": [_shape(s) for s in states],
                "state_dtypes": [_dtype(s) for s in states],
                "batch_first": bool(module.batch_first),
            }
        )

    def _on_head(self, module, args, output) -> None:
        if self.head is None and args and type(args[0]) is torch.Tensor:
            x = args[0]
            small = x.numel() <= HEAD_ELEMENTS
            self.head = copied(x) if small else _shape(x)

    def done(self) -> dict:
        """Stop recording; what was seen, as plain data."""
        for hook in self.hooks:
            hook.remove()
        return {"lstm": self.lstm, "head": self.head}


def _shape(value) -> list[int] | None:
    return [int(d) for d in value.shape] if type(value) is torch.Tensor else None


def _dtype(value) -> str | None:
    return str(value.dtype).removeprefix("torch.") if type(value) is torch.Tensor else None
