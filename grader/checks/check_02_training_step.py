"""Checks for exercise 2: `train_step`, one optimisation step.

Each check runs several steps of the learner's function and of the reference on identical
copies of a small LSTM model, starting with stale gradients already in `.grad`, and compares
the parameters after every step. When they differ, the usual mistakes are replayed in the
checker to name the cause.
"""

from __future__ import annotations

import torch

from grader.checking import call, defines, depends, fail, points
from grader.checking.values import close, near
from grader.learner import Learner
from grader.probes.models import TinySequenceModel, setup

EXERCISE = "02_training_step"
LOSSES = {"mse": "MSELoss", "cross_entropy": "CrossEntropyLoss", "bce_logits": "BCEWithLogitsLoss"}
OPTIMIZERS = {"sgd_momentum": "SGD with momentum", "adam": "Adam"}
STEPS = 3
RECIPES = {
    "sgd_mse": {"sizes": [3, 8, 1], "optimizer": "sgd_momentum", "lr": 0.1, "criterion": "mse"},
    "adam_mse": {"sizes": [3, 8, 1], "optimizer": "adam", "lr": 0.01, "criterion": "mse"},
    "adam_ce": {"sizes": [3, 8, 4], "optimizer": "adam", "lr": 0.01, "criterion": "cross_entropy"},
    "sgd_bce": {"sizes": [3, 8, 2], "optimizer": "sgd_momentum", "lr": 0.1, "criterion": "bce_logits"},
}  # fmt: skip


test_imports = defines("train_step")


@points(2)
@depends("test_imports")
def test_sgd_momentum_mse(learner: Learner) -> None:
    """Three steps of SGD with momentum on MSELoss, from stale gradients, match the reference"""
    judge_parameters(learner, "sgd_mse", seed=1)


@points(3)
@depends("test_imports")
def test_loss_argument_order(learner: Learner) -> None:
    """Three steps on CrossEntropyLoss and on BCEWithLogitsLoss match the reference"""
    for name, seed in (("adam_ce", 3), ("sgd_bce", 4)):
        judge_parameters(learner, name, seed)


@points(2)
@depends("test_imports")
def test_adam_mse(learner: Learner) -> None:
    """Three steps of Adam on MSELoss, whose state carries from step to step, match the reference"""
    judge_parameters(learner, "adam_mse", seed=2)


@points(2)
@depends("test_imports")
def test_returns_the_loss(learner: Learner) -> None:
    """Returns this step's loss as a Python float"""
    problem = make_problem("sgd_mse", seed=5)
    reply = run(learner, problem)
    expected = replay(correct, problem)
    after = replay(loss_after_step, problem)
    for step, (got, want) in enumerate(zip(reply["returned"], expected["returned"], strict=True)):
        if "tensor" in got:
            fail(RETURNED_TENSOR.format(grad=" that requires grad" if got["requires_grad"] else ""))
        if "float" not in got:
            fail(RETURNED_OTHER.format(what=got["wrong_type"]))
        if not near(value := got["float"], want):
            if after and near(value, after["returned"][step]):
                fail(RETURNED_AFTER.format(got=value, step=step + 1, want=want))
            fail(RETURNED_WRONG.format(got=value, step=step + 1, want=want))


@points(1)
@depends("test_imports")
def test_training_mode(learner: Learner) -> None:
    """The model is in training mode, with one forward pass per step"""
    reply = run(learner, make_problem("adam_mse", seed=6))
    for modes in reply["modes"]:
        if modes and not all(modes):
            fail(MODE.format(mode="evaluation", extra=" (it was given to you in eval mode)"))
        if len(modes) != 1:
            fail(PASSES.format(n=len(modes)))


# --------------------------------------------------------------------- the reference and mistakes


def variant(
    zero_grad: bool = True, step_first: bool = False, fresh: bool = False, swapped: bool = False
):
    """A train_step with one of the usual mistakes (the defaults make the right step)."""

    def step(model, x, y, criterion, optimizer):
        if fresh:
            optimizer = type(optimizer)(model.parameters(), **optimizer.defaults)
        model.train()
        if zero_grad:
            optimizer.zero_grad()
        out = model(x)
        loss = criterion(y, out) if swapped else criterion(out, y)
        for action in (
            (optimizer.step, loss.backward) if step_first else (loss.backward, optimizer.step)
        ):
            action()
        return loss.item()

    return step


def loss_after_step(model, x, y, criterion, optimizer):
    correct(model, x, y, criterion, optimizer)
    return criterion(model(x), y).item()


correct = variant()
# zero_grad() between backward() and step() leaves .grad empty when step() runs, exactly like
# step() before backward(): one replay and one message name both.
MISTAKES = {
    "no_zero_grad": variant(zero_grad=False),
    "step_before_backward": variant(step_first=True),
    "new_optimizer": variant(fresh=True),
    "swapped": variant(swapped=True),
}


# --------------------------------------------------------------------- helpers


def make_problem(name: str, seed: int) -> tuple:
    """A recipe's (recipe, weights, stale gradients, batches), from a seed."""
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


def replay(step_fn, problem: tuple) -> dict | None:
    """Run `step_fn` like the probe does; None if it raises (a mistake that cannot run)."""
    recipe, weights, stale, batches = problem
    model, optimizer, criterion = setup(recipe, weights, stale)
    returned, params = [], []
    try:
        for x, y in batches:
            returned.append(step_fn(model, x.clone(), y.clone(), criterion, optimizer))
            params.append([p.detach().clone() for p in model.parameters()])
    except (RuntimeError, ValueError):
        return None
    return {"returned": returned, "params": params}


def run(learner: Learner, problem: tuple) -> dict:
    """The learner's train_step over the problem's batches; fail with a cause on any error."""
    recipe, weights, stale, batches = problem
    return call(
        learner,
        "training.steps",
        "Your train_step",
        explain=lambda error, _: swapped_hint(recipe),
        recipe=recipe,
        weights=weights,
        stale=stale,
        batches=batches,
    )


def swapped_hint(recipe: dict) -> str:
    """For a loss that takes targets of another kind, the likely cause of an error."""
    if recipe["criterion"] == "mse":
        return ""
    return SWAPPED_ERROR.format(criterion=LOSSES[recipe["criterion"]])


def same_params(a, b) -> bool:
    return all(close(x, y, 1e-5, 1e-4) for x, y in zip(a, b, strict=True))


def judge_parameters(learner: Learner, name: str, seed: int) -> None:
    problem = make_problem(name, seed)
    reply = run(learner, problem)
    expected = replay(correct, problem)
    for step, (got, want) in enumerate(zip(reply["params"], expected["params"], strict=True), 1):
        if not same_params(got, want):
            for cause, step_fn in MISTAKES.items():
                replayed = replay(step_fn, problem)
                if replayed and all(
                    same_params(g, w)
                    for g, w in zip(reply["params"], replayed["params"], strict=True)
                ):
                    fail(CAUSES[cause])
            diff = max(float((g - w).abs().max()) for g, w in zip(got, want, strict=True))
            fail(WRONG.format(step=step, steps=STEPS, recipe=described(problem[0]), diff=diff))


def described(recipe: dict) -> str:
    return f"{OPTIMIZERS[recipe['optimizer']]}, {LOSSES[recipe['criterion']]}"


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
    "With {criterion}, this error usually means the arguments are swapped: PyTorch losses "
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
PASSES = "Your step ran {n} forward passes; one step is one forward pass."
