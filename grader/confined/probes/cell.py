"""One probe for any recurrent cell an exercise asks for, parameterised by a `Cell` spec (the
class's name, its parameters by name, the state it returns, the fused torch functions that
would compute it for the learner): build the learner's cell, give it the checker's weights by
name, run it step by step carrying its state, and report what came out, the gradients if
asked, and whether torch's own code for that cell ran underneath (a tripwire records it).
An exercise's probe module is a spec and two one-line functions (see lstm_cell.py)."""

from __future__ import annotations

import types
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from grader.confined.probes.common import grad_of, kept, load_weights, reply_value, same, wrong_type

BUILTIN = (nn.RNNBase, nn.RNNCellBase)  # nn.LSTM, nn.GRUCell and their relatives


@dataclass(frozen=True)
class Cell:
    """What a cell exercise asks for: `name` (the learner's class), its `parameters` by name,
    the `state` it returns and is given back (("h", "c") for an LSTM), and the `fused` torch
    functions (torch.<name>) that compute the cell, which the learner must not call."""

    name: str
    parameters: tuple[str, ...]
    state: tuple[str, ...]
    fused: frozenset[str]


class Tripwire(TorchFunctionMode):
    """Records every call of the given fused functions while it is active (torch's own
    modules call them too), and lets the call go on."""

    def __init__(self, fused: frozenset[str]) -> None:
        super().__init__()
        self.fused = fused
        self.used: set[str] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in self.fused:
            self.used.add(f"torch.{name}")
        return func(*args, **(kwargs or {}))


def builtin_modules(cell: nn.Module) -> list[str]:
    return sorted({f"nn.{type(m).__name__}" for m in cell.modules() if isinstance(m, BUILTIN)})


def build(spec: Cell, learner: types.ModuleType, sizes: list[int]) -> dict:
    """Construct the learner's cell(*sizes) and name its parameters, shapes and submodules."""
    cell = getattr(learner, spec.name)(*sizes)
    if not isinstance(cell, nn.Module):
        return wrong_type(cell, f"{spec.name}{tuple(sizes)}")
    return {
        "parameters": [[name, list(p.shape)] for name, p in cell.named_parameters()],
        "builtin": builtin_modules(cell),
    }


def steps(
    spec: Cell,
    learner: types.ModuleType,
    sizes: list[int],
    weights: dict,
    xs: list[torch.Tensor],
    state: list[torch.Tensor] | None = None,
    device: str = "cpu",
    dtype: str = "float32",
    upstream: list[torch.Tensor] | None = None,
) -> dict:
    """Run the cell over the inputs `xs`, one call per step, carrying its state from step to
    step and starting from `state` (or calling it without a state). With `upstream` (one
    tensor per state part), backpropagate sum(part_T * upstream) and return every gradient."""
    kind = getattr(torch, dtype)
    cell = getattr(learner, spec.name)(*sizes)
    named = dict(cell.named_parameters())
    load_weights([named[n] for n in spec.parameters], [weights[n] for n in spec.parameters])
    cell.to(device=device, dtype=kind)
    grads = upstream is not None
    xs = [x.to(device=device, dtype=kind).requires_grad_(grads) for x in xs]
    given = None
    if state is not None:
        given = tuple(s.to(device=device, dtype=kind).requires_grad_(grads) for s in state)
    before = [kept(x) for x in xs]
    carried, found, last, changed = given, {n: [] for n in spec.state}, None, None
    with Tripwire(spec.fused) as tripwire:
        for t, x in enumerate(xs):
            copies = None
            if carried is not None and all(type(s) is torch.Tensor for s in carried):
                copies = [kept(s) for s in carried]
            returned = cell(x) if carried is None else cell(x, _given(spec, carried))
            last = _parts(spec, returned)
            if last is None:
                return wrong_type(returned, "forward") | {"used": sorted(tripwire.used)}
            for name, value in zip(spec.state, last, strict=True):
                found[name].append(reply_value(value))  # as returned, before any later step
            if changed is None and copies is not None and _changed(carried, copies):
                changed = t
            carried = last
    reply: dict = found | {
        "used": sorted(tripwire.used),
        "builtin": builtin_modules(cell),
        "mutated": any(not same(x, b) for x, b in zip(xs, before, strict=True)),
        "state_changed_at": changed,
    }
    if grads:
        reply["grads"] = _gradients(spec, cell, last, upstream, xs, given, device, kind)
    return reply


def _parts(spec: Cell, returned) -> tuple | None:
    """The state parts a step returned (one tensor alone for a one-part state), or None."""
    if len(spec.state) == 1:
        return (returned,)
    if type(returned) in (tuple, list) and len(returned) == len(spec.state):
        return tuple(returned)
    return None


def _given(spec: Cell, carried: tuple):
    """The state as the cell takes it back: a tuple, or one tensor alone."""
    return carried[0] if len(spec.state) == 1 else carried


def _changed(state, copies) -> bool:
    return any(not same(s, k) for s, k in zip(state, copies, strict=True))


def _gradients(spec: Cell, cell, last, upstream, xs, given, device, kind) -> dict | None:
    if last is None or any(type(v) is not torch.Tensor for v in last):
        return None
    if not any(v.requires_grad for v in last):
        return {"detached": True}
    total = sum(
        (v * u.to(device=device, dtype=kind)).sum() for v, u in zip(last, upstream, strict=True)
    )
    total.backward()
    named = dict(cell.named_parameters())
    leaves = {name: named[name] for name in spec.parameters}
    leaves.update({f"x{t}": x for t, x in enumerate(xs)})
    if given is not None:
        leaves.update({f"{name}0": s for name, s in zip(spec.state, given, strict=True)})
    return {name: grad_of(p) for name, p in leaves.items()}
