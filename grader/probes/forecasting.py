"""Probes for exercise 4: cut windows with the learner's make_windows, train with its fit and
evaluate the result here, on windows the checker sends (the model never leaves the runner),
and forecast with its forecast on a trusted model that records every window it is fed."""

from __future__ import annotations

import contextlib
import time
import types

import torch
import torch.nn as nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from grader.probes.common import reply_value, wrong_type
from grader.probes.models import recording_forecaster
from grader.runner import describe


def windows(learner: types.ModuleType, series: torch.Tensor, window: int) -> dict:
    """make_windows(series, window): the two tensors it returned."""
    returned = learner.make_windows(series.clone(), window)
    if type(returned) not in (tuple, list) or len(returned) != 2:
        return wrong_type(returned, "make_windows")
    return {"inputs": reply_value(returned[0]), "targets": reply_value(returned[1])}


def fit(
    learner: types.ModuleType,
    series: torch.Tensor,
    inputs: torch.Tensor,
    window: int,
    seed: int,
    epochs: int | None = None,
) -> dict:
    """fit(series, window, [epochs,] seed), then the fitted model's predictions for `inputs`
    in evaluation mode, how long fit took and how often it ran backward and optimizer steps."""
    options = {"window": window, "seed": seed} | ({} if epochs is None else {"epochs": epochs})
    counts = {"backward": 0, "grad": 0, "steps": 0}
    start = time.perf_counter()
    with _counting(counts):
        model = learner.fit(series.clone(), **options)
    seconds = time.perf_counter() - start
    if not isinstance(model, nn.Module):
        return wrong_type(model, "fit")
    kinds = sorted({type(m).__name__ for m in model.modules() if m is not model})
    recurrent = any(isinstance(m, (nn.LSTM, nn.LSTMCell)) for m in model.modules())
    model.eval()
    try:
        with torch.no_grad():
            y = model(inputs.clone())
    except Exception as exc:  # the model's fault, not fit's: say so
        return {"forward_error": describe(exc, learner.__file__), "counts": counts}
    return {
        "y": reply_value(y),
        "seconds": seconds,
        "counts": counts,
        "lstm": recurrent,
        "modules": kinds,
    }


@contextlib.contextmanager
def _counting(counts: dict):
    """Count calls of torch.autograd.backward (loss.backward() goes through it),
    torch.autograd.grad and every optimizer's step() while the block runs."""
    backward, grad = torch.autograd.backward, torch.autograd.grad

    def counted_backward(*args, **kwargs):
        counts["backward"] += 1
        return backward(*args, **kwargs)

    def counted_grad(*args, **kwargs):
        counts["grad"] += 1
        return grad(*args, **kwargs)

    def stepped(optimizer, args, kwargs):
        counts["steps"] += 1

    hook = register_optimizer_step_post_hook(stepped)
    torch.autograd.backward, torch.autograd.grad = counted_backward, counted_grad
    try:
        yield
    finally:
        torch.autograd.backward, torch.autograd.grad = backward, grad
        hook.remove()


def forecast(
    learner: types.ModuleType,
    weights: list[torch.Tensor],
    series: list[torch.Tensor],
    known: int,
    steps: int,
    window: int | None = None,
) -> dict:
    """For each full series, forecast(model, series[:known], steps[, window]) with a fresh
    recording model: what it returned, the windows it fed the model, and whether it changed
    the series. `history` is a view of the full series, so a forecast that reads past its end
    gives different results for series that differ only there."""
    runs = []
    for full in series:
        model = recording_forecaster(weights)
        full = full.clone()
        before = full.clone()
        history = full[:known]  # a view: the values after it exist, but are not history
        extra = {} if window is None else {"window": window}
        y = learner.forecast(model, history, steps, **extra)
        runs.append(
            {
                "y": reply_value(y),
                "seen": model.seen,
                "mutated": not torch.equal(full, before),
            }
        )
    return {"runs": runs}
