"""The reference's side of a check, in the checker: weights made from a seed, a torch module
carrying the checker's weights by parameter name, gradients of a result, a training function
run call after call as a probe runs the learner's, and the reference itself run with a call
silenced, which replays a forgotten call without writing the reference twice."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.nn as nn

M = TypeVar("M", bound=nn.Module)


def seeded_weights(
    make: Callable[[], nn.Module], seed: int, dtype: torch.dtype = torch.float32
) -> dict[str, torch.Tensor]:
    """The parameters, by name, of the module `make()` builds after torch.manual_seed(seed),
    detached and in `dtype`: weights to give the learner's module and the reference alike."""
    torch.manual_seed(seed)
    return {name: p.detach().to(dtype) for name, p in make().named_parameters()}


def loaded(module: M, weights: Mapping[str, torch.Tensor], suffix: str = "") -> M:
    """`module`, in the weights' dtype, carrying `weights` (name -> tensor; each goes to the
    parameter named `name + suffix`, e.g. "_l0" for the first of stacked recurrent layers)."""
    module.to(next(iter(weights.values())).dtype)
    parameters = dict(module.named_parameters())
    with torch.no_grad():
        for name, value in weights.items():
            parameters[name + suffix].copy_(value)
    return module


def leaf(value: torch.Tensor) -> torch.Tensor:
    """A copy of `value` that autograd gives a gradient to."""
    return value.detach().clone().requires_grad_()


def gradients_of(
    outputs: Sequence[torch.Tensor],
    upstream: Sequence[torch.Tensor],
    leaves: Mapping[str, torch.Tensor],
) -> dict[str, torch.Tensor | None]:
    """The gradient of sum(output * upstream), over every output, for each named leaf: the
    reference's gradients, with an upstream that weighs every entry differently."""
    total = sum((o * u).sum() for o, u in zip(outputs, upstream, strict=True))
    total.backward()
    return {name: value.grad for name, value in leaves.items()}


@dataclass(frozen=True)
class Trained:
    """What training call after call left: the parameters after each call, and what each
    call returned."""

    params: list[list[torch.Tensor]]
    returned: list[Any]


def train_in_turn(model: nn.Module, calls: Iterable[Callable[[], Any]]) -> Trained:
    """Make each call (a training function applied to `model` and its data) in turn, and
    record `model`'s parameters after each and what it returned: the reference or a mistake,
    recorded as a probe records the learner's function."""
    params, returned = [], []
    for call in calls:
        returned.append(call())
        params.append([p.detach().clone() for p in model.parameters()])
    return Trained(params, returned)


@contextmanager
def silenced(obj: object, *methods: str) -> Iterator[dict[str, Callable]]:
    """Inside the block, `obj`'s `methods` do nothing (the originals are given to the block,
    and are back after it): the reference run with optimizer.zero_grad silenced replays a loop
    that never clears the gradients. A replay the reference's own code does not reach equals
    the reference's result, and `diagnosis.matching` never claims it."""
    originals = {name: getattr(obj, name) for name in methods}
    own = {name: vars(obj)[name] for name in methods if name in vars(obj)}
    for name in methods:
        setattr(obj, name, _nothing)
    try:
        yield originals
    finally:
        for name in methods:
            if name in own:
                setattr(obj, name, own[name])
            else:
                delattr(obj, name)


def skipping(
    call: Callable[[], Any], obj: object, skipped: Sequence[str], deferred: Sequence[str] = ()
) -> Any:
    """`call()` with `obj`'s `skipped` methods silenced, then each of `deferred` (among them)
    made once after it: the reference replaying a call forgotten, or made once at the end
    instead of each time (optimizer.step after the loop)."""
    with silenced(obj, *skipped) as original:
        returned = call()
    for name in deferred:
        original[name]()
    return returned


def _nothing(*args: Any, **kwargs: Any) -> None:
    """What a silenced method does."""
