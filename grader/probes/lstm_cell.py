"""Probes for exercise 3: build the learner's LSTMCell, give it the checker's weights by name,
run it for one or more steps, and report what came out, the gradients if asked, and whether
torch's own LSTM code ran underneath (a tripwire records it)."""

from __future__ import annotations

import types

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from grader.probes.common import grad_of, kept, load_weights, reply_value, same, wrong_type

PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
FUSED = {"lstm", "lstm_cell", "_thnn_fused_lstm_cell", "quantized_lstm_cell"}  # torch.<name>
BUILTIN = (nn.RNNBase, nn.RNNCellBase)  # nn.LSTM, nn.LSTMCell and their relatives


class Tripwire(TorchFunctionMode):
    """Records every call of torch's fused LSTM functions while it is active (nn.LSTM and
    nn.LSTMCell call them too), and lets the call go on."""

    def __init__(self) -> None:
        super().__init__()
        self.used: set[str] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in FUSED:
            self.used.add(f"torch.{name}")
        return func(*args, **(kwargs or {}))


def builtin_modules(cell: nn.Module) -> list[str]:
    return sorted({f"nn.{type(m).__name__}" for m in cell.modules() if isinstance(m, BUILTIN)})


def build(learner: types.ModuleType, sizes: list[int]) -> dict:
    """Construct LSTMCell(*sizes) and name its parameters, their shapes and its submodules."""
    cell = learner.LSTMCell(*sizes)
    if not isinstance(cell, nn.Module):
        return wrong_type(cell, f"LSTMCell{tuple(sizes)}")
    return {
        "parameters": [[name, list(p.shape)] for name, p in cell.named_parameters()],
        "builtin": builtin_modules(cell),
    }


def steps(
    learner: types.ModuleType,
    sizes: list[int],
    weights: dict,
    xs: list[torch.Tensor],
    state: list[torch.Tensor] | None = None,
    device: str = "cpu",
    dtype: str = "float32",
    upstream: list[torch.Tensor] | None = None,
) -> dict:
    """Run the cell over the inputs `xs`, one call per step, carrying (h, c) from step to
    step and starting from `state` (or calling it without a state). With `upstream` = [dh, dc],
    backpropagate sum(h_T * dh) + sum(c_T * dc) and return every gradient."""
    kind = getattr(torch, dtype)
    cell = learner.LSTMCell(*sizes)
    named = dict(cell.named_parameters())
    load_weights([named[name] for name in PARAMETERS], [weights[name] for name in PARAMETERS])
    cell.to(device=device, dtype=kind)
    xs = [x.to(device=device, dtype=kind).requires_grad_(upstream is not None) for x in xs]
    given = None
    if state is not None:
        given = tuple(
            s.to(device=device, dtype=kind).requires_grad_(upstream is not None) for s in state
        )
    before = [kept(x) for x in xs]
    carried = given
    hs, cs, h, c, changed = [], [], None, None, None
    with Tripwire() as tripwire:
        for t, x in enumerate(xs):
            copies = None
            if carried is not None and all(type(s) is torch.Tensor for s in carried):
                copies = [kept(s) for s in carried]
            returned = cell(x) if carried is None else cell(x, carried)
            if type(returned) not in (tuple, list) or len(returned) != 2:
                return wrong_type(returned, "forward") | {"used": sorted(tripwire.used)}
            h, c = returned
            hs.append(reply_value(h))  # the values as returned, before any later step
            cs.append(reply_value(c))
            if changed is None and copies is not None and _changed(carried, copies):
                changed = t
            carried = (h, c)
    reply: dict = {
        "h": hs,
        "c": cs,
        "used": sorted(tripwire.used),
        "builtin": builtin_modules(cell),
        "mutated": any(not same(x, b) for x, b in zip(xs, before, strict=True)),
        "state_changed_at": changed,
    }
    if upstream is not None:
        reply["grads"] = _gradients(cell, h, c, upstream, xs, given, device, kind)
    return reply


def _changed(state, copies) -> bool:
    return any(not same(s, k) for s, k in zip(state, copies, strict=True))


def _gradients(cell, h, c, upstream, xs, given, device, kind) -> dict | None:
    if type(h) is not torch.Tensor or type(c) is not torch.Tensor:
        return None
    if not (h.requires_grad or c.requires_grad):
        return {"detached": True}
    dh, dc = (u.to(device=device, dtype=kind) for u in upstream)
    ((h * dh).sum() + (c * dc).sum()).backward()
    named = dict(cell.named_parameters())
    leaves = {name: named[name] for name in PARAMETERS}
    leaves.update({f"x{t}": x for t, x in enumerate(xs)})
    if given is not None:
        leaves.update({"h0": given[0], "c0": given[1]})
    return {name: grad_of(p) for name, p in leaves.items()}
