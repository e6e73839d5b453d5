"""Probes for exercise 4: cut windows with the learner's make_windows, train with its fit and
evaluate the result here, on windows the checker sends (the model never leaves the runner),
and forecast with its forecast on a trusted model that records every window it is fed."""

from __future__ import annotations

import time
import types

import torch
import torch.nn as nn

from grader.confined.probes.common import (
    copied,
    kept,
    reply_value,
    same,
    training_calls,
    wrong_type,
)
from grader.confined.probes.models import recording_forecaster
from grader.confined.runner import describe


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
    """fit(series, window, [epochs,] seed), then the fitted model's prediction for each window
    of `inputs` in evaluation mode, how long fit took and how often it ran backward and
    optimizer steps. The windows go one per call, in time order, and each prediction is copied
    when it is made: in a batch of consecutive windows a model could read a row's target in the
    next row, and no later call can change an earlier prediction."""
    options = {"window": window, "seed": seed} | ({} if epochs is None else {"epochs": epochs})
    start = time.perf_counter()
    with training_calls([]) as events:
        model = learner.fit(series.clone(), **options)
    seconds = time.perf_counter() - start
    counts = {name: events.count(name) for name in ("backward", "grad", "step")}
    if not isinstance(model, nn.Module):
        return wrong_type(model, "fit")
    kinds = sorted({type(m).__name__ for m in model.modules() if m is not model})
    recurrent = any(isinstance(m, (nn.LSTM, nn.LSTMCell)) for m in model.modules())
    model.eval()
    try:
        with torch.no_grad():
            ys = [reply_value(model(window[None].clone())) for window in inputs]
            matters = _recurrent_matters(model, inputs[:PERTURBED])
    except Exception as exc:  # the model's fault, not fit's: say so
        return {"forward_error": describe(exc, learner.__file__), "counts": counts}
    return {
        "y": ys,
        "seconds": seconds,
        "counts": counts,
        "lstm": recurrent,
        "lstm_matters": matters,
        "modules": kinds,
    }


PERTURBED = 4  # windows predicted again with the recurrent layers' weights changed


def _recurrent_matters(model: nn.Module, windows: torch.Tensor) -> bool:
    """Whether the model's predictions depend on its nn.LSTM / nn.LSTMCell at all: predict
    `windows` again with those layers' weights changed (then put back), and compare."""
    layers = [m for m in model.modules() if isinstance(m, (nn.LSTM, nn.LSTMCell))]
    params = [p for m in layers for p in m.parameters(recurse=False)]
    saved = [kept(p) for p in params]
    before = [copied(y) for y in (model(w[None].clone()) for w in windows)]
    generator = torch.Generator().manual_seed(0)
    for p in params:
        p.add_(torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device))
    try:
        after = [copied(y) for y in (model(w[None].clone()) for w in windows)]
    finally:
        for p, s in zip(params, saved, strict=True):
            p.copy_(s)
    return any(a.shape != b.shape or not same(a, b) for a, b in zip(after, before, strict=True))


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
        before = kept(full)
        history = full[:known]  # a view: the values after it exist, but are not history
        extra = {} if window is None else {"window": window}
        y = learner.forecast(model, history, steps, **extra)
        runs.append(
            {
                "y": reply_value(y),
                "seen": model.seen,
                "mutated": not same(full, before),
            }
        )
    return {"runs": runs}
