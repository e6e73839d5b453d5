"""Checks for exercise 2: `train_step`, one optimisation step.

Each check runs several steps of the learner's function and of the reference on identical
copies of a small LSTM model, starting with stale gradients already in `.grad`, and compares
the parameters after every step. When they differ, the usual mistakes are replayed in the
checker to name the cause.
"""

from __future__ import annotations

import torch

from grader.checking import (
    TODO_LEFT,
    close,
    depends,
    fail,
    points,
    raised,
    require_names,
    todo_left,
)
from grader.probes.models import TinySequenceModel, setup

EXERCISE = "02_training_step"
LOSSES = {"mse": "MSELoss", "cross_entropy": "CrossEntropyLoss", "bce_logits": "BCEWithLogitsLoss"}
STEPS = 3

RECIPES = {
    "sgd_mse": {"sizes": [3, 8, 1], "optimizer": "sgd_momentum", "lr": 0.1, "criterion": "mse"},
    "adam_mse": {"sizes": [3, 8, 1], "optimizer": "adam", "lr": 0.01, "criterion": "mse"},
    "adam_ce": {"sizes": [3, 8, 4], "optimizer": "adam", "lr": 0.01, "criterion": "cross_entropy"},
    "sgd_bce": {
        "sizes": [3, 8, 2],
        "optimizer": "sgd_momentum",
        "lr": 0.1,
        "criterion": "bce_logits",
    },
}

# --------------------------------------------------------------------- messages

CAUSES = {
    "no_zero_grad": (
        "Your parameters match a step that never clears the gradients: loss.backward() ADDS "
        "into .grad, so the stale gradients of earlier steps are applied again and again. Call "
        "optimizer.zero_grad() before the backward pass."
    ),
    "step_before_backward": (
        "Your step never changes the parameters: optimizer.step() finds no gradients. That "
        "happens when step() runs BEFORE loss.backward(), or when zero_grad() runs between "
        "backward() and step(). The order is zero_grad, forward, loss, backward, step."
    ),
    "new_optimizer": (
        "Your parameters match a new optimizer created inside the step: its state (momentum, "
        "Adam's running averages) starts from zero every time. Use the optimizer you are given."
    ),
    "swapped": (
        "Your parameters match criterion(targets, outputs): PyTorch losses take the "
        "prediction first and the target second, criterion(outputs, targets)."
    ),
}
WRONG = (
    "After step {step} of {steps} ({recipe}), your parameters differ from the reference's "
    "(largest difference {diff:.3g}). The step should be: zero_grad, forward, "
    "criterion(outputs, targets), backward, step."
)
SWAPPED_ERROR = (
    "\nWith {criterion}, this error usually means the arguments are swapped: PyTorch losses "
    "take criterion(outputs, targets), the prediction first."
)
RETURNED_TENSOR = (
    "train_step returned a tensor{grad}; return a Python float with loss.item(). A tensor that "
    "requires grad keeps the whole graph of the step alive."
)
RETURNED_OTHER = "train_step returned {what}; it must return the loss as a Python float."
RETURNED_AFTER = (
    "train_step returned {got:.6g} at step {step}, which is the loss AFTER the update (a second "
    "forward pass); return the loss of the forward pass that was backpropagated: {want:.6g}."
)
RETURNED_WRONG = (
    "train_step returned {got:.6g} at step {step}; the loss of that step is {want:.6g}."
)
MODE = (
    "The model was in {mode} mode during your step{extra}. Call model.train() at the start of "
    "the step: dropout and batch norm behave differently when training."
)


# --------------------------------------------------------------------- the reference and mistakes


def correct(model, x, y, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def no_zero_grad(model, x, y, criterion, optimizer):
    model.train()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_before_backward(model, x, y, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    optimizer.step()
    loss.backward()
    return loss.item()


def new_optimizer(model, x, y, criterion, optimizer):
    fresh = type(optimizer)(model.parameters(), **optimizer.defaults)
    return correct(model, x, y, criterion, fresh)


def swapped(model, x, y, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = criterion(y, model(x))
    loss.backward()
    optimizer.step()
    return loss.item()


# zero_grad() between backward() and step() leaves .grad empty when step() runs, exactly like
# step() before backward(): one replay and one message name both.
MISTAKES = {f.__name__: f for f in (no_zero_grad, step_before_backward, new_optimizer, swapped)}


def problem(name: str, seed: int):
    """Weights, stale gradients and batches for a recipe, from a seed."""
    recipe = RECIPES[name]
    torch.manual_seed(seed)
    weights = [p.detach().clone() for p in TinySequenceModel(*recipe["sizes"]).parameters()]
    stale = [torch.randn_like(w) for w in weights]
    i, _, o = recipe["sizes"]
    batches = []
    for _ in range(STEPS):
        x = torch.randn(5, 6, i)
        if recipe["criterion"] == "cross_entropy":
            y = torch.randint(0, o, (5,))
        elif recipe["criterion"] == "bce_logits":
            y = torch.randint(0, 2, (5, o)).float()
        else:
            y = torch.randn(5, o)
        batches.append([x, y])
    return recipe, weights, stale, batches


def replay(step_fn, recipe, weights, stale, batches) -> dict | None:
    """Run `step_fn` like the probe does; None if it raises (a mistake that cannot run)."""
    model, optimizer, criterion = setup(recipe, weights, stale)
    returned, params = [], []
    try:
        for x, y in batches:
            returned.append(step_fn(model, x.clone(), y.clone(), criterion, optimizer))
            params.append([p.detach().clone() for p in model.parameters()])
    except (RuntimeError, ValueError):
        return None
    return {"returned": returned, "params": params}


def run(learner, name: str, seed: int):
    recipe, weights, stale, batches = problem(name, seed)
    reply = learner.probe(
        "training.steps",
        "Your train_step",
        recipe=recipe,
        weights=weights,
        stale=stale,
        batches=batches,
    )
    if "error" in reply:
        error = reply["error"]
        if todo_left(error):
            fail(TODO_LEFT.format(what="train_step"))
        extra = (
            SWAPPED_ERROR.format(criterion=LOSSES[recipe["criterion"]])
            if recipe["criterion"] != "mse"
            else ""
        )
        fail(raised(error, "Your train_step") + extra)
    return (
        reply,
        replay(correct, recipe, weights, stale, batches),
        (recipe, weights, stale, batches),
    )


def same_params(a, b) -> bool:
    return all(close(x, y, 1e-5, 1e-4) for x, y in zip(a, b, strict=True))


def judge_parameters(learner, name: str, seed: int) -> None:
    reply, expected, setup_args = run(learner, name, seed)
    for step, (got, want) in enumerate(zip(reply["params"], expected["params"], strict=True), 1):
        if not same_params(got, want):
            for cause, step_fn in MISTAKES.items():
                replayed = replay(step_fn, *setup_args)
                if replayed and all(
                    same_params(g, w)
                    for g, w in zip(reply["params"], replayed["params"], strict=True)
                ):
                    fail(CAUSES[cause])
            diff = max(float((g - w).abs().max()) for g, w in zip(got, want, strict=True))
            fail(WRONG.format(step=step, steps=STEPS, recipe=_describe(setup_args[0]), diff=diff))


def _describe(recipe: dict) -> str:
    names = {"sgd_momentum": "SGD with momentum", "adam": "Adam"}
    return f"{names[recipe['optimizer']]}, {LOSSES[recipe['criterion']]}"


# --------------------------------------------------------------------- checks


@points(0)
def test_imports(learner):
    """Your file imports and defines train_step"""
    require_names(learner, "train_step")


@points(2)
@depends("test_imports")
def test_sgd_momentum_mse(learner):
    """Three steps of SGD with momentum on MSELoss, from stale gradients, match the reference"""
    judge_parameters(learner, "sgd_mse", seed=1)


@points(2)
@depends("test_imports")
def test_adam_mse(learner):
    """Three steps of Adam on MSELoss match the reference"""
    judge_parameters(learner, "adam_mse", seed=2)


@points(2)
@depends("test_imports")
def test_cross_entropy(learner):
    """Three steps on CrossEntropyLoss (argument order matters) match the reference"""
    judge_parameters(learner, "adam_ce", seed=3)


@points(1)
@depends("test_imports")
def test_bce_with_logits(learner):
    """Three steps on BCEWithLogitsLoss (argument order matters) match the reference"""
    judge_parameters(learner, "sgd_bce", seed=4)


@points(2)
@depends("test_imports")
def test_returns_the_loss(learner):
    """Returns this step's loss as a Python float"""
    reply, expected, setup_args = run(learner, "sgd_mse", seed=5)
    after = replay(_loss_after_step, *setup_args)
    for step, (got, want) in enumerate(
        zip(reply["returned"], expected["returned"], strict=True), 1
    ):
        if "tensor" in got:
            fail(RETURNED_TENSOR.format(grad=" that requires grad" if got["requires_grad"] else ""))
        if "float" not in got:
            other = got["other"]
            what = (
                other.get("not_a_tensor", type(other).__name__)
                if type(other) is dict
                else type(other).__name__
            )
            fail(RETURNED_OTHER.format(what=f"a {what}" if what != "NoneType" else "None"))
        value = got["float"]
        if abs(value - want) > 1e-5 * max(1.0, abs(want)):
            if after and abs(value - after["returned"][step - 1]) <= 1e-5 * max(1.0, abs(value)):
                fail(RETURNED_AFTER.format(got=value, step=step, want=want))
            fail(RETURNED_WRONG.format(got=value, step=step, want=want))


def _loss_after_step(model, x, y, criterion, optimizer):
    correct(model, x, y, criterion, optimizer)
    return criterion(model(x), y).item()


@points(1)
@depends("test_imports")
def test_training_mode(learner):
    """The model is in training mode, with one forward pass per step"""
    reply, _, _ = run(learner, "adam_mse", seed=6)
    for modes in reply["modes"]:
        if modes and not all(modes):
            fail(MODE.format(mode="evaluation", extra=" (it was given to you in eval mode)"))
        if len(modes) != 1:
            fail(f"Your step ran {len(modes)} forward passes; one step is one forward pass.")
