"""Checks for exercise 4: `make_windows`, `fit` and `forecast` on a noisy sine.

The learner's model never leaves the runner: the runner trains it with the learner's `fit`,
runs it on test windows sent from here and returns the predictions. The checker computes the
test MSE and compares it with the naive last-value forecast and with the reference's (trained
here, once per process). `forecast` runs on a trusted model that records every window it is
fed, over a history that is a view of a longer series, so that feeding true values instead of
predictions, or reading past the history, is visible in plain data.
"""

from __future__ import annotations

import functools
import math
import time
from types import ModuleType

import torch

from grader.checking import call, defines, depends, error_message, fail, messages, points, tensor
from grader.checking.explainers import Comparison, explain
from grader.checking.messages import dtype_name
from grader.checking.values import close, max_difference, shape
from grader.confined.probes.models import RecordingForecaster, recording_forecaster
from grader.figures import curve, record_figure
from grader.learner import Learner

EXERCISE = "04_forecasting"
WINDOW = 20
TRAIN, TEST = 300, 200  # values to fit on; one-step predictions checked after them
PERIOD, NOISE = 25.0, 0.1
FIT_SECONDS = 30.0  # the CPU budget for one call of fit, stated in the README
BASELINE_FRACTION = 0.5  # the test MSE must be at most half the naive forecast's
REFERENCE_FACTOR = 1.5  # ... and at most this many times the reference's
# The noise of each target is unknown from its window, so no honest model's test MSE falls far
# below its variance, NOISE**2 (over 200 targets it is within about 15% of it): one that does
# read the targets themselves (from the series regenerated, or from the other test windows).
NOISE_FLOOR = 0.5 * NOISE**2
ONE_WINDOW = f"(1, {WINDOW}, 1)"  # the fitted model is given one window per call
FORECAST_CASES = [  # (seed, values of history, steps, window; None: the default)
    (1, 30, 12, 8),
    (2, 8, 5, 8),  # history exactly one window long
    (3, 25, 4, None),  # the default window of 20
]


test_imports = defines("make_windows", "fit", "forecast")


@points(2)
@depends("test_imports")
def test_windows(learner: Learner, reference: ModuleType) -> None:
    """make_windows cuts every (window, next value) pair, the last one included"""
    cases = [
        (noisy_sine(30, 5), 5),
        (noisy_sine(21, 6), 20),  # exactly one window and its target
        (noisy_sine(12, 7), 1),
        (noisy_sine(15, 8).double(), 4),
    ]
    for series, w in cases:
        judge_windows(windows(learner, series, w), series, w, reference)


@points(1)
@depends("test_windows")
def test_too_short(learner: Learner) -> None:
    """A series no longer than the window raises ValueError with a message"""
    for T, w in ((20, 20), (5, 8)):
        reply = windows(learner, noisy_sine(T, 9), w, allow_error=True)
        error = reply.get("error")
        if error is None:
            got = [reply.get(k) for k in ("inputs", "targets")]
            shapes = [f"shape {shape(g)}" for g in got if type(g) is torch.Tensor]
            fail(SHORT_RETURNED.format(T=T, w=w, what=" and ".join(shapes) or "something"))
        if error.get("type") != "ValueError":
            what = f"For a series of {T} values and window={w}, your make_windows"
            fail(error_message(error, what, SHORT_OTHER))
        if not error.get("message", "").strip():
            fail(SHORT_SILENT.format(T=T, w=w))


@points(2)
@depends("test_imports")
def test_forecast_feeds_back(learner: Learner, reference: ModuleType) -> None:
    """forecast feeds back its own predictions, one step at a time, from the history alone"""
    for seed, known, steps, window in FORECAST_CASES:
        weights, series = forecast_problem(seed, known, steps)
        runs = run_forecast(learner, weights, series, known, steps, window)
        a, b = (tensor(run["y"], "Your forecast") for run in runs)
        if a.shape == b.shape and not torch.equal(a, b):
            fail(READS_AHEAD.format(diff=max_difference(a, b)))
        judge_forecast(runs[0], weights, series[0][:known], steps, window, reference)


@points(1)
@depends("test_forecast_feeds_back")
def test_forecast_leaves_history(learner: Learner) -> None:
    """forecast leaves the history it was given unchanged"""
    for seed, known, steps, window in FORECAST_CASES:
        weights, series = forecast_problem(seed, known, steps)
        runs = run_forecast(learner, weights, series, known, steps, window)
        if any(run["mutated"] for run in runs):
            fail(MUTATED)


@points(3)
@depends("test_windows")
def test_fit_learns(learner: Learner, reference: ModuleType) -> None:
    """The fitted model forecasts one step well below the naive baseline, near the reference"""
    reply = run_fit(learner, reference)
    _, targets = held_out_windows(reference)
    y = reply["y"]
    record_figure(
        "One-step forecasts of the held-out series",
        curve("true series", targets, range(TRAIN, TRAIN + TEST)),
        curve("your fitted model", y, range(TRAIN, TRAIN + TEST)),
        xlabel="time step",
        ylabel="value",
    )
    if not bool(torch.isfinite(y).all()):
        fail(NOT_FINITE)
    mse = float(((y - targets) ** 2).mean())
    baseline = baseline_mse(reference)
    ref = reference_result(reference)
    limit = min(BASELINE_FRACTION * baseline, REFERENCE_FACTOR * ref["mse"])
    if mse < NOISE_FLOOR:
        fail(TOO_GOOD.format(mse=mse, noise=NOISE**2, sd=NOISE))
    if mse > limit and (mse >= baseline or not trained(reply["counts"])):
        fail(not_learned(reply["counts"], y, targets, mse, baseline))
    if not reply["lstm_matters"]:
        fail(LSTM_UNUSED)
    if mse <= limit:
        return
    fail(
        NOT_GOOD_ENOUGH.format(
            mse=mse,
            limit=limit,
            baseline=baseline,
            factor=REFERENCE_FACTOR,
            ref=ref["mse"],
            ref_seconds=ref["seconds"],
            budget=FIT_SECONDS,
        )
    )


@points(1)
@depends("test_fit_learns")
def test_fit_deterministic(learner: Learner, reference: ModuleType) -> None:
    """fit gives the same model twice for the same seed"""
    epochs = 2
    first = run_fit(learner, reference, epochs)["y"]
    second = run_fit(learner, reference, epochs)["y"]
    if not close(first, second, 1e-6, 1e-6):
        diff = max_difference(first, second)
        fail(NOT_DETERMINISTIC.format(w=WINDOW, e=epochs, s=0, diff=diff))


# --------------------------------------------------------------------- data


def noisy_sine(n: int, seed: int) -> torch.Tensor:
    """sin(2πt / PERIOD) plus Gaussian noise of standard deviation NOISE, t = 0..n-1."""
    generator = torch.Generator().manual_seed(seed)
    t = torch.arange(n, dtype=torch.float32)
    return torch.sin(2 * math.pi * t / PERIOD) + NOISE * torch.randn(n, generator=generator)


@functools.cache
def series() -> torch.Tensor:
    """The series fit trains on (its first TRAIN values) and is tested on (the rest)."""
    return noisy_sine(TRAIN + TEST, seed=2024)


def held_out_windows(reference: ModuleType):
    """The test windows (every window whose target lies after the training part)."""
    return reference.make_windows(series()[TRAIN - WINDOW :], WINDOW)


def reference_result(reference: ModuleType) -> dict:
    """The reference's test MSE and time, trained here (once per process and solution file)
    the same way the runner trains the learner's."""
    if reference.__file__ not in _REFERENCE:
        _REFERENCE[reference.__file__] = _train_reference(reference)
    return _REFERENCE[reference.__file__]


_REFERENCE: dict[str, dict] = {}


def _train_reference(reference: ModuleType) -> dict:
    inputs, targets = held_out_windows(reference)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the runner
    start = time.perf_counter()
    try:
        model = reference.fit(series()[:TRAIN], window=WINDOW, seed=0)
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        mse = float(((model(inputs) - targets) ** 2).mean())
    return {"mse": mse, "seconds": seconds}


def baseline_mse(reference: ModuleType) -> float:
    inputs, targets = held_out_windows(reference)
    return float(((inputs[:, -1] - targets) ** 2).mean())


# --------------------------------------------------------------------- windows


def windows(learner: Learner, series: torch.Tensor, w: int, **options) -> dict:
    """The learner's make_windows(series, w), as the runner replies."""
    args = {"series": series, "window": w, "expected": PAIR}
    return call(learner, "forecasting.windows", "Your make_windows", **args, **options)


def judge_windows(reply: dict, series: torch.Tensor, w: int, reference: ModuleType) -> None:
    T = series.shape[0]
    inputs, targets = reference.make_windows(series, w)
    for which, want in (("inputs", inputs), ("targets", targets)):
        got = tensor(reply[which], f"make_windows' {which}")
        if got.shape != want.shape:
            why = shape_why(got, want, which, T, w, series)
            fail(
                WINDOW_SHAPE.format(
                    T=T, w=w, which=which, got=shape(got), want=shape(want), why=why
                )
            )
        if got.dtype != want.dtype:
            mine, given = f"{dtype_name(got.dtype)} {which}", dtype_name(series.dtype)
            fail(messages.DTYPE.format(what="Your make_windows", got=mine, want=given))
    got_inputs, got_targets = reply["inputs"], reply["targets"]
    if torch.equal(got_inputs, inputs) and torch.equal(got_targets, targets):
        return
    n = T - w
    for cause, (x, y) in window_mistakes(series, w, inputs, targets).items():
        # the last row of a replay may run off the end of the series: compare the others
        same = torch.equal(got_inputs[: n - 1], x[: n - 1]) and torch.equal(
            got_targets[: n - 1], y[: n - 1]
        )
        if n > 1 and same:
            fail(WINDOW_CAUSES[cause])
    for which, got, want in (("inputs", got_inputs, inputs), ("targets", got_targets, targets)):
        if not torch.equal(got, want):
            first = int((got != want).reshape(n, -1).any(dim=1).nonzero()[0])
            fail(WINDOW_VALUES.format(T=T, w=w, which=which, index=first))


def window_mistakes(series, w: int, inputs, targets) -> dict[str, tuple]:
    """The (inputs, targets) that the usual mistakes cut from `series`."""
    T = series.shape[0]
    n = T - w
    index = torch.arange(n)[:, None] + torch.arange(w)
    return {
        "targets_inside": (inputs, series[w - 1 : T - 1].unsqueeze(-1)),
        "inputs_shifted": (series[(index + 1).clamp(max=T - 1)].unsqueeze(-1), targets),
        "targets_two_ahead": (
            inputs,
            series[(torch.arange(n) + w + 1).clamp(max=T - 1)].unsqueeze(-1),
        ),
    }


def shape_why(got, want: torch.Tensor, which: str, T: int, w: int, series) -> str:
    """Why `got` has the wrong shape, from its values where a claim needs them: the last
    window is said to be missing only when the others are all there."""
    n = want.shape[0]
    if got.dim() >= 1 and got.shape[1:] == want.shape[1:]:
        if got.shape[0] == n - 1 and torch.equal(got, want[:-1].to(got.dtype)):
            return SHAPE_WHY["too_few"].format(first=T - w - 1, last=T - 1)
        if got.shape[0] == n - 1:
            return SHAPE_WHY["one_fewer"]
        if got.shape[0] == n + 1:
            return SHAPE_WHY["too_many"]
    if which == "inputs" and tuple(got.shape) == (n, w):
        return SHAPE_WHY["no_feature"]
    if which == "targets" and tuple(got.shape) == (n,):
        return SHAPE_WHY["flat_targets"]
    return SHAPE_WHY["other"]


# --------------------------------------------------------------------- fit


def run_fit(learner: Learner, reference: ModuleType, epochs: int | None = None) -> dict:
    """The learner's fit, trained in the runner; its predictions for the held-out windows."""
    inputs, _ = held_out_windows(reference)
    options = {} if epochs is None else {"epochs": epochs}
    reply = call(
        learner,
        "forecasting.fit",
        "Your fit",
        expected=MODULE,
        timeout=FIT_SECONDS,
        # a full fit: train the reference here while the runner trains the learner's
        while_waiting=(lambda: reference_result(reference)) if epochs is None else None,
        series=series()[:TRAIN],
        inputs=inputs,
        window=WINDOW,
        seed=0,
        **options,
    )
    if "forward_error" in reply:
        error = reply["forward_error"]
        what = f"Your fitted model, given a window of shape {ONE_WINDOW},"
        fail(error_message(error, what, filename=str(learner.path)))
    if not reply["lstm"]:
        fail(NO_LSTM.format(kinds=", ".join(reply["modules"]) or "no layers at all"))
    ys = [tensor(y, "Your fitted model") for y in reply["y"]]
    if wrong := next((y for y in ys if tuple(y.shape) != (1, 1)), None):
        fail(FIT_OUTPUT.format(window=ONE_WINDOW, got=shape(wrong)))
    return reply | {"y": torch.cat(ys)}


def trained(counts: dict) -> bool:
    """fit computed a gradient (by backward or autograd.grad) at least once."""
    return counts["backward"] + counts["grad"] > 0


def not_learned(counts: dict, y, targets, mse: float, baseline: float) -> str:
    """Why a model that does no better than the naive forecast, or was never trained, has
    not learned."""
    if not trained(counts):
        if counts["step"]:
            return NO_BACKWARD.format(mse=mse, baseline=baseline, steps=counts["step"])
        return NO_TRAINING.format(mse=mse, baseline=baseline)
    std, target_std = float(y.std()), float(targets.std())
    constant = CONSTANT.format(std=std, target_std=target_std) if std < 0.2 * target_std else ""
    if not counts["step"]:
        return NO_STEP.format(mse=mse, baseline=baseline, constant=constant)
    return NOT_LEARNED.format(mse=mse, baseline=baseline, constant=constant)


# --------------------------------------------------------------------- forecast


def forecast_problem(seed: int, known: int, steps: int):
    """A forecast case: the model's weights and two series equal on their first `known`
    values and different after them."""
    torch.manual_seed(seed)
    weights = [p.detach().clone() for p in RecordingForecaster().parameters()]
    first = noisy_sine(known + steps + 5, seed)
    second = first.clone()
    second[known:] = -first[known:] + 3.0  # another future behind the same history
    return weights, [first, second]


def run_forecast(learner: Learner, weights, series, known, steps, window) -> list[dict]:
    reply = call(
        learner,
        "forecasting.forecast",
        "Your forecast",
        explain=lambda error, _: (
            FORECAST_INPUT if "input" in error.get("message", "").lower() else ""
        ),
        weights=weights,
        series=series,
        known=known,
        steps=steps,
        window=window,
    )
    return reply["runs"]


def expected_forecast(reference: ModuleType, weights, history, steps, window):
    model = recording_forecaster(weights)
    extra = {} if window is None else {"window": window}
    y = reference.forecast(model, history.clone(), steps, **extra)
    return y, model


def is_slice_of(window: torch.Tensor, history: torch.Tensor) -> bool:
    w = window.numel()
    if w > history.numel():
        return False
    slices = history.unfold(0, w, 1)  # every run of w consecutive values
    return bool((slices == window.reshape(1, w)).all(dim=1).any())


def judge_forecast(run: dict, weights, history, steps, window, reference: ModuleType) -> None:
    w = window or WINDOW
    y = tensor(run["y"], "Your forecast")
    if tuple(y.shape) != (steps,):
        extra = FLATTEN if y.numel() == steps else ""
        fail(FORECAST_SHAPE.format(steps=steps, got=shape(y), extra=extra))
    expected, model = expected_forecast(reference, weights, history, steps, window)
    if close(y, expected, 1e-5, 1e-4):
        return
    seen = [x.reshape(-1) for x in run["seen"]]
    if seen and seen[0].numel() == w and not torch.equal(seen[0], history[-w:]):
        fail(FIRST_WINDOW.format(w=w, how=first_window_how(seen[0], history, w)))
    if len(seen) > 1 and all(is_slice_of(x, history) for x in seen):
        if all(torch.equal(x, seen[0]) for x in seen):
            how = FED_SAME.format(n=len(seen), w=w)
        else:
            how = FED_STRETCHES
        fail(FED_TRUE.format(how=how))
    if len(seen) != steps:
        fail(CALLS.format(calls=len(seen), steps=steps))
    if all(close(a, b.reshape(-1), 1e-6, 1e-6) for a, b in zip(seen, model.seen, strict=True)):
        fail(values_wrong(y, expected, w))  # the reference's windows: only the values returned
    context = torch.cat([history, y])
    for k in range(1, steps):
        want = context[len(history) - w + k : len(history) + k]
        if seen[k].shape != want.shape:
            fail(WINDOW_LENGTH.format(k=k + 1, n=seen[k].numel(), w=w))
        if not close(seen[k], want, 1e-6, 1e-6):
            last = float(seen[k][-1]) if seen[k].numel() else float("nan")
            detail = f" (it ends with {last:.4g})"
            fail(LATER_WINDOW.format(k=k + 1, y=float(y[k - 1]), detail=detail))
    fail(values_wrong(y, expected, w))


def values_wrong(y: torch.Tensor, expected: torch.Tensor, w: int) -> str:
    """The message for a forecast whose windows look right and whose values are not, with the
    relation to the right values where one holds."""
    wrong = FORECAST_VALUES.format(steps=len(y), w=w, diff=max_difference(y, expected))
    relation = explain(Comparison(y, expected, 1e-5, 1e-4, "Your forecast", time_dim=0))
    return f"{wrong} {relation}".strip()


def first_window_how(first: torch.Tensor, history: torch.Tensor, w: int) -> str:
    if torch.equal(first, history[:w]):
        return f"it was history[:{w}], the FIRST values"
    return f"it ends with {float(first[-1]):.4g}, where history ends with {float(history[-1]):.4g}"


# --------------------------------------------------------------------- messages

PAIR = "it must return the pair (inputs, targets)."
MODULE = "it must return the trained model, an nn.Module."
WINDOW_SHAPE = (
    "For a series of {T} values and window={w}, your {which} has shape {got}; expected {want}. "
    "{why}"
)
SHAPE_WHY = {
    "too_few": "That is one window too few: the last window, series[{first}:{last}], is missing, yet its target series[{last}] exists. There are T - window windows: range(T - window).",
    "one_fewer": "That is one window fewer than the T - window pairs there are: range(T - window) gives them all, from window 0, series[0:window], to the last, whose target is the series' last value.",
    "too_many": "That is one window too many: a window that ends at the last value has no target after it. There are T - window windows: range(T - window).",
    "no_feature": "Add the feature dimension: (N, window, 1), e.g. with inputs.unsqueeze(-1); nn.LSTM reads (batch, seq_len, features).",
    "flat_targets": "Targets are (N, 1), one column, like the model's output: targets.unsqueeze(-1).",
    "other": "There are T - window windows of `window` values and one feature each.",
}
WINDOW_CAUSES = {
    "targets_inside": "Your targets are the LAST value of each window, series[i + window - 1]: the model would learn to copy its input. The target is the value right after the window, series[i + window].",
    "targets_two_ahead": "Your targets are two steps after the window, series[i + window + 1]; the target is the very next value, series[i + window].",
    "inputs_shifted": "Your windows start one value late, series[i + 1 : i + 1 + window]; window i is series[i : i + window].",
}
WINDOW_VALUES = (
    "For a series of {T} values and window={w}, your {which} differ from the expected ones "
    "(first difference at index {index}). inputs[i] must be series[i : i + window] and "
    "targets[i] series[i + window]."
)
SHORT_RETURNED = (
    "For a series of {T} values and window={w}, your make_windows returned {what}; there is no "
    "value after a full window, so there is nothing to learn from. Raise ValueError with a "
    "message that says the series must be longer than the window."
)
SHORT_OTHER = (
    "Check the length first and raise ValueError yourself, with a message that says the series "
    "must be longer than the window."
)
SHORT_SILENT = (
    "For a series of {T} values and window={w}, your make_windows raised ValueError with no "
    "message. Say why: how long the series is and how long it must be."
)
NO_LSTM = (
    "Your fit returned a model without an nn.LSTM (it is made of: {kinds}). This exercise asks "
    "for an LSTM-based forecaster: nn.LSTM(1, hidden_size, batch_first=True), or nn.LSTMCell."
)
FIT_OUTPUT = (
    "Your fitted model maps one window of shape {window} to {got}; it must give (1, 1), one "
    "prediction per window: (batch, window, 1) to (batch, 1)."
)
NOT_DETERMINISTIC = (
    "Two calls of fit(series, window={w}, epochs={e}, seed={s}) gave models with different "
    "predictions (largest difference {diff:.3g}). Call torch.manual_seed(seed) at the start of "
    "fit, before the model is built and before any shuffling."
)
NO_TRAINING = (
    "Your fitted model's one-step test MSE is {mse:.4f}, where the naive forecast (repeat the "
    "last value) scores {baseline:.4f}: it has not learned. fit never called loss.backward() "
    "nor optimizer.step(): the model is returned untrained. Loop over the epochs: zero_grad, "
    "forward, loss, backward, step (exercise 2)."
)
NO_BACKWARD = (
    "Your fitted model's one-step test MSE is {mse:.4f}, where the naive forecast (repeat the "
    "last value) scores {baseline:.4f}: it has not learned. fit called optimizer.step() {steps} "
    "times but never loss.backward(), so no gradient ever reached the parameters and every step "
    "had nothing to apply. Call loss.backward() between the loss and optimizer.step()."
)
NOT_LEARNED = (
    "Your fitted model's one-step test MSE is {mse:.4f}, where the naive forecast (repeat the "
    "last value) scores {baseline:.4f}: it has not learned{constant}. fit computed gradients "
    "and called optimizer.step(); check the order zero_grad, forward, loss, backward, step (zero_grad "
    "between backward and step throws the gradients away), that the loss compares the model's "
    "output with the targets, and the learning rate."
)
NO_STEP = (
    "Your fitted model's one-step test MSE is {mse:.4f}, where the naive forecast (repeat the "
    "last value) scores {baseline:.4f}: it has not learned{constant}. fit computed gradients "
    "but never called optimizer.step(); if it updates the parameters another way, check that "
    "way. The loop is zero_grad, forward, loss, backward, optimizer.step() (exercise 2)."
)
CONSTANT = ", and its predictions hardly vary (standard deviation {std:.3g}, the targets' {target_std:.3g})"
NOT_GOOD_ENOUGH = (
    "Your fitted model's one-step test MSE is {mse:.4f}; it must be at most {limit:.4f}: at "
    "most half the naive forecast's {baseline:.4f} and within {factor:g}x the reference's "
    "{ref:.4f} (which trains in {ref_seconds:.1f} s). Train for more epochs or with a larger "
    "learning rate, within the budget of {budget:g} s."
)
NOT_FINITE = "Your fitted model's predictions hold NaN or infinity, as a training that diverges leaves them: if the loss grew during fit, lower the learning rate."
FORECAST_SHAPE = "forecast(model, history, steps={steps}) returned shape {got}; it must be ({steps},), one value per step.{extra}"
FLATTEN = " Flatten it: torch.cat of (1,) predictions, or .reshape(-1)."
FED_TRUE = (
    "Your forecast fed the model only true values of history at every step, so it never used "
    "its own predictions: {how}. Autoregressive forecasting has no true values after the "
    "history: after each step, drop the oldest value of the window and append the prediction."
)
FED_SAME = "all {n} windows were history[-{w}:], so every prediction is the same"
FED_STRETCHES = "each window was a stretch of history itself"
FIRST_WINDOW = (
    "The first window your forecast fed the model is not the last {w} values of history "
    "(history[-{w}:]); {how}."
)
LATER_WINDOW = (
    "At step {k} your forecast fed the model a window that is not the previous window shifted "
    "by one with your prediction {y:.4g} appended{detail}. Each step: "
    "context = torch.cat([context[1:], prediction])."
)
WINDOW_LENGTH = (
    "At step {k} your forecast fed the model a window of {n} values instead of {w}: when you "
    "append a prediction, drop the oldest value too, context = torch.cat([context[1:], y])."
)
FORECAST_INPUT = (
    "The model takes a batch of windows with one feature, (batch, window, 1): feed each window "
    "as context.view(1, window, 1)."
)
CALLS = (
    "Your forecast called the model {calls} times for {steps} steps; it makes one call per "
    "step, on a batch of one window, (1, window, 1)."
)
FORECAST_VALUES = (
    "forecast(model, history, steps={steps}, window={w}) returned values that differ from the "
    "model's predictions on its own windows (largest difference {diff:.3g}), though the windows "
    "it fed look right. Return the predictions themselves, in order."
)
READS_AHEAD = (
    "Your forecast's result changed when only the values AFTER history changed (largest "
    "difference {diff:.3g}): it reads past the end of the history it was given. history is a "
    "view of a longer tensor here; use only history itself (history[-window:]) and your own "
    "predictions."
)
MUTATED = messages.INPUT_CHANGED.format(what="Your forecast", name="history")
TOO_GOOD = (
    "Your fitted model's test MSE is {mse:.3g}, below what any forecast can reach on this "
    "series: each target carries noise of standard deviation {sd:g} that its window cannot "
    "tell, so the error cannot fall far below {noise:.3g}. Your model must be reading the "
    "targets themselves (the series regenerated, or other windows than the one it is given): "
    "predict each value from its own window only."
)
LSTM_UNUSED = (
    "Your fitted model's predictions do not change when the weights of its LSTM change: the "
    "LSTM is there but does not take part in the forecast. The model reads each window with "
    "its nn.LSTM (or nn.LSTMCell) and predicts from what the LSTM returns."
)
