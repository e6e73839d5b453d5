"""Probe for exercise 5: build a recurrent layer with the checker's weights (and, if asked,
gradients already in .grad), call the learner's input_gradient_norms on it, and report the
norms and the state the model was left in."""

from __future__ import annotations

import types

import torch
import torch.nn as nn

from grader.confined.probes.common import (
    copied,
    grad_of,
    kept,
    load_weights,
    reply_value,
    requires_grad,
    same,
)

LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM}


def recurrent_layer(
    kind: str,
    sizes: list[int],
    weights: list[torch.Tensor],
    dtype: str,
    stale: list[torch.Tensor] | None = None,
) -> nn.Module:
    """nn.RNN or nn.LSTM(input_size, hidden_size, num_layers, batch_first=True) in `dtype`,
    carrying `weights` (in the order of its parameters()) and `stale` gradients in .grad. The
    checker builds the same."""
    input_size, hidden_size, num_layers = sizes
    model = LAYERS[kind](input_size, hidden_size, num_layers=num_layers, batch_first=True)
    model = model.to(getattr(torch, dtype))
    load_weights(model.parameters(), weights, stale)
    return model


def norms(
    learner: types.ModuleType,
    kind: str,
    sizes: list[int],
    weights: list[torch.Tensor],
    inputs: torch.Tensor,
    dtype: str = "float64",
    stale: list[torch.Tensor] | None = None,
) -> dict:
    """input_gradient_norms(model, inputs), then the model's parameters, their .grad and
    requires_grad flags, and whether the inputs changed."""
    model = recurrent_layer(kind, sizes, weights, dtype, stale)
    x = inputs.to(getattr(torch, dtype))
    before = kept(x)
    params = list(model.parameters())  # before the learner's code can replace them
    result = learner.input_gradient_norms(model, x)
    return {
        "norms": reply_value(result),
        "params": [copied(p) for p in params],
        "grads": [grad_of(p) for p in params],
        "requires_grad": [requires_grad(p) for p in params],
        "inputs_changed": not same(x, before),
    }
