"""What every probe needs: plain replies and the structural weight mapping."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn


def reply_value(value: Any) -> Any:
    """A learner's return value as plain data: a CPU copy of an exact tensor, a number, or a
    description of what it was instead."""
    if type(value) is torch.Tensor:
        return value.detach().to("cpu").clone()
    if type(value) in (int, float, bool):
        return value
    return {"not_a_tensor": type(value).__name__, "repr": _repr(value)}


def _repr(value: Any) -> str:
    try:
        text = repr(value)
        return text[:200] if type(text) is str else "?"
    except Exception:
        return "?"


def recurrent_and_linear(model: nn.Module) -> tuple[list[nn.LSTM], list[nn.Linear]]:
    """The model's nn.LSTM and nn.Linear modules, in registration order (names do not matter)."""
    modules = list(model.modules())
    return (
        [m for m in modules if isinstance(m, nn.LSTM)],
        [m for m in modules if isinstance(m, nn.Linear)],
    )


def canonical_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The model's parameters in the reference's order: every nn.LSTM's (layer by layer:
    weight_ih, weight_hh, bias_ih, bias_hh), then every nn.Linear's (weight, bias)."""
    lstms, linears = recurrent_and_linear(model)
    return [p for m in (*lstms, *linears) for p in m.parameters()]


def describe_structure(model: nn.Module) -> dict:
    """The recurrent layers, linear layers and parameter shapes of a model, as plain data."""
    lstms, linears = recurrent_and_linear(model)
    canonical = {id(p) for p in canonical_parameters(model)}
    return {
        "lstms": [
            {
                "input_size": m.input_size,
                "hidden_size": m.hidden_size,
                "num_layers": m.num_layers,
                "batch_first": bool(m.batch_first),
                "bidirectional": bool(m.bidirectional),
                "proj_size": int(m.proj_size),
                "bias": bool(m.bias),
                "dropout": float(m.dropout),
            }
            for m in lstms
        ],
        "linears": [
            {
                "in_features": m.in_features,
                "out_features": m.out_features,
                "bias": m.bias is not None,
            }
            for m in linears
        ],
        "shapes": [list(p.shape) for p in canonical_parameters(model)],
        "other_parameters": [list(p.shape) for p in model.parameters() if id(p) not in canonical],
    }


def load_canonical(model: nn.Module, weights: list[torch.Tensor]) -> None:
    """Copy the reference's weights into the model by structure; raise if the shapes differ."""
    params = canonical_parameters(model)
    shapes = [tuple(p.shape) for p in params]
    expected = [tuple(w.shape) for w in weights]
    if shapes != expected:
        raise StructureMismatch(f"parameter shapes {shapes} differ from the reference's {expected}")
    with torch.no_grad():
        for p, w in zip(params, weights, strict=True):
            p.copy_(w)


class StructureMismatch(Exception):
    """The learner's model is not built like the reference, so weights cannot be copied."""
