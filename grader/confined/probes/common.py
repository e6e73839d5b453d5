"""What every probe shares: one reply shape for values of the wrong type, one way to load
weights into parameters, and the structural mapping of a model onto the reference's.

The reply contract (read by `grader.checking.call`): a reply is a dict of plain data; a value
the learner's code returned that is not what was asked is `{"wrong_type": "<what it was>"}`,
and a whole reply whose main result was of the wrong type also names the `call`. Exceptions
from the learner's code are the runner's business: it replies `{"error": ...}`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import torch
import torch.nn as nn
from torch.optim.optimizer import register_optimizer_step_post_hook
from torch.utils._python_dispatch import _disable_current_modes

MAX_DESCRIPTION = 120  # characters of a description of a value

# What the probes read tensors with, taken when the probes are imported, before any learner
# code runs: a learner's file that reassigns torch.equal, Tensor.detach, Tensor.clone or the
# Tensor.grad property, or leaves a torch function or dispatch mode active, does not change
# what a probe reports. (The C type's methods cannot be reassigned.)
_TENSOR = torch._C.TensorBase
_DETACH, _CLONE, _TO = _TENSOR.detach, _TENSOR.clone, _TENSOR.to
_GRAD, _REQUIRES_GRAD = _TENSOR.grad.__get__, _TENSOR.requires_grad.__get__
_EQUAL = torch.equal
_NO_FUNCTION_MODES = torch._C.DisableTorchFunction
_NO_DISPATCH_MODES = _disable_current_modes


@contextlib.contextmanager
def trusted() -> Iterator[None]:
    """A block in which torch runs the probe's own operations, with no learner mode between."""
    with _NO_FUNCTION_MODES(), _NO_DISPATCH_MODES():
        yield


def copied(value: torch.Tensor) -> torch.Tensor:
    """A contiguous CPU copy of a tensor, detached, that no learner code can reach or change
    (the channel sends contiguous tensors only: a transposed result is as right as any)."""
    with trusted():
        return _CLONE(_TO(_DETACH(value), "cpu"), memory_format=torch.contiguous_format)


def grad_of(p: torch.Tensor) -> torch.Tensor | None:
    """A copy of `p`'s .grad, or None, read past any learner's patch of Tensor.grad."""
    with trusted():
        grad = _GRAD(p)
    return None if grad is None else copied(grad)


def requires_grad(p: torch.Tensor) -> bool:
    return bool(_REQUIRES_GRAD(p))


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """torch.equal, as it was before the learner's code ran."""
    with trusted():
        return bool(_EQUAL(a, b))


def kept(value: torch.Tensor) -> torch.Tensor:
    """A copy to compare with later, on the value's own device."""
    with trusted():
        return _CLONE(_DETACH(value), memory_format=torch.contiguous_format)


def reply_value(value: Any) -> Any:
    """A learner's return value as plain data: a CPU copy of an exact tensor, a number, or
    `{"wrong_type": ...}` saying what it was instead."""
    if type(value) is torch.Tensor:
        unusual = _unusual(value)
        return {"wrong_type": unusual} if unusual else copied(value)
    if type(value) is int and not _int64(value):
        return {"wrong_type": "an int larger than 64 bits"}
    if type(value) in (int, float, bool):
        return value
    return {"wrong_type": described(value)}


def _int64(value: int) -> bool:
    """Whether the channel carries `value` (its integers are 64-bit)."""
    return -(1 << 63) <= value < 1 << 63


_LAYOUT, _IS_QUANTIZED = _TENSOR.layout.__get__, _TENSOR.is_quantized.__get__
_IS_META = _TENSOR.is_meta.__get__


def _unusual(value: torch.Tensor) -> str:
    """What a tensor is that no probe can copy or send (sparse, quantized, meta), or ""."""
    with trusted():
        if _LAYOUT(value) != torch.strided:
            return f"a tensor of layout {str(_LAYOUT(value)).removeprefix('torch.')}"
        if _IS_QUANTIZED(value):
            return "a quantized tensor"
        if _IS_META(value):
            return "a meta tensor (it holds no data)"
    return ""


def plain(value: Any) -> Any:
    """A setting the learner's code can change (an nn.LSTM's `hidden_size` is a plain
    attribute) as plain data: an int or float within what the channel carries, a short str,
    a bool, None; anything else as a description of what it is. A probe that sends a
    learner's value through this never fails to encode, so the learner's code cannot make
    the grader report its own failure."""
    kind = type(value)
    if kind is int and _int64(value):
        return value
    if kind in (float, bool) or value is None:
        return value
    if kind is str and len(value) <= MAX_DESCRIPTION:
        return value
    return {"wrong_type": described(value)}


def wrong_type(value: Any, call: str) -> dict:
    """The reply of a probe whose call of the learner's code returned the wrong kind of value."""
    return {"wrong_type": described(value), "call": call}


def described(value: Any) -> str:
    """What a value is, in a few words and never its contents: 'None', 'a float',
    'a tuple of 2 (a tensor of shape (4, 1), None)', 'a Parameter of shape (3,)'."""
    try:
        return _described(value, nested=False)[:MAX_DESCRIPTION]
    except Exception:  # a learner's object that cannot even say its type
        return "an object that could not be described"


def _described(value: Any, nested: bool) -> str:
    kind = type(value)
    if value is None:
        return "None"
    if isinstance(value, torch.Tensor):
        name = "tensor" if kind is torch.Tensor else kind.__name__
        return f"a {name} of shape {tuple(int(d) for d in value.shape)}"
    if kind in (tuple, list) and not nested:
        parts = [_described(v, nested=True) for v in value[:3]]
        more = ", ..." if len(value) > 3 else ""
        inside = f" ({', '.join(parts)}{more})" if parts else ""
        return f"a {kind.__name__} of {len(value)}{inside}"
    if kind in (tuple, list):
        return f"a {kind.__name__} of {len(value)}"
    article = "an" if kind.__name__[:1].lower() in "aeiou" else "a"
    return f"{article} {kind.__name__}"


def load_weights(
    parameters: Iterable[nn.Parameter],
    weights: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor] | None = None,
) -> None:
    """Copy `weights` into `parameters`, in order (and `grads` into their .grad, if given)."""
    parameters = list(parameters)
    with torch.no_grad():
        for p, w in zip(parameters, weights, strict=True):
            p.copy_(w)
    for p, g in zip(parameters, grads or (), strict=grads is not None):
        p.grad = g.to(p.dtype).clone()


@contextlib.contextmanager
def training_calls(
    events: list[str], after_backward: Callable[[], None] | None = None
) -> Iterator[list[str]]:
    """Append to `events`, while the block runs, each "zero_grad" (of any optimizer or
    module), "backward" (torch.autograd.backward, which loss.backward() calls), "grad"
    (torch.autograd.grad) and "step" (of any optimizer), in the order they happen; call
    `after_backward` when a backward pass has finished (to see what it left in .grad)."""
    backward, grad = torch.autograd.backward, torch.autograd.grad
    optimizer_zero, module_zero = torch.optim.Optimizer.zero_grad, nn.Module.zero_grad

    def recorded(name: str, function, then: Callable[[], None] | None = None):
        def call(*args, **kwargs):
            events.append(name)
            result = function(*args, **kwargs)
            if then is not None:
                then()
            return result

        return call

    hook = register_optimizer_step_post_hook(lambda *_: events.append("step"))
    torch.autograd.backward = recorded("backward", backward, after_backward)
    torch.autograd.grad = recorded("grad", grad)
    torch.optim.Optimizer.zero_grad = recorded("zero_grad", optimizer_zero)
    nn.Module.zero_grad = recorded("zero_grad", module_zero)
    try:
        yield events
    finally:
        torch.autograd.backward, torch.autograd.grad = backward, grad
        torch.optim.Optimizer.zero_grad, nn.Module.zero_grad = optimizer_zero, module_zero
        hook.remove()


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
        "lstms": [_lstm_settings(m) for m in lstms],
        "linears": [_linear_settings(m) for m in linears],
        "shapes": [[int(d) for d in p.shape] for p in canonical_parameters(model)],
        "other_parameters": [
            [int(d) for d in p.shape] for p in model.parameters() if id(p) not in canonical
        ],
    }


def built_model(make, name: str, sizes: list[int]) -> dict:
    """`make(*sizes)` (a learner's class), described by describe_structure, or what it made
    instead of an nn.Module."""
    model = make(*sizes)
    if not isinstance(model, nn.Module):
        return wrong_type(model, f"{name}{tuple(sizes)}")
    return describe_structure(model)


def _lstm_settings(m: nn.LSTM) -> dict:
    return {
        "input_size": plain(m.input_size),
        "hidden_size": plain(m.hidden_size),
        "num_layers": plain(m.num_layers),
        "batch_first": bool(m.batch_first),
        "bidirectional": bool(m.bidirectional),
        "proj_size": plain(int(m.proj_size)),
        "bias": bool(m.bias),
        "dropout": float(m.dropout),
    }


def _linear_settings(m: nn.Linear) -> dict:
    bias = m.bias is not None
    return {
        "in_features": plain(m.in_features),
        "out_features": plain(m.out_features),
        "bias": bias,
    }


def load_canonical(model: nn.Module, weights: list[torch.Tensor]) -> None:
    """Copy the reference's weights into the model by structure; raise if the shapes differ."""
    params = canonical_parameters(model)
    shapes = [tuple(p.shape) for p in params]
    expected = [tuple(w.shape) for w in weights]
    if shapes != expected:
        raise StructureMismatch(f"parameter shapes {shapes} differ from the reference's {expected}")
    load_weights(params, weights)


class StructureMismatch(Exception):
    """The learner's model is not built like the reference, so weights cannot be copied."""
