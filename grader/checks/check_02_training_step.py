"""Checks for exercise 2: `train_step`, one optimisation step.

Each check runs several steps of the learner's function and of the reference on identical
copies of a small LSTM model, starting with stale gradients already in `.grad`, and compares
the parameters after every step. The runner also reports what each of the learner's steps did,
in order (zero_grad, forward, loss, backward, step). When the parameters differ, the usual
mistakes are replayed in the checker to name the cause; the loss a step returns is compared
with the loss of the learner's own forward pass, so that a wrong update is not blamed twice.
"""

from __future__ import annotations

import math
from functools import partial

import torch

from grader.checking import call, defines, depends, fail, points
from grader.checking.diagnosis import Mistake, matching
from grader.checking.messages import NO_GRADIENT, WRONG_RETURN_TYPE
from grader.checking.values import all_close, dims, near
from grader.confined.probes.models import TinySequenceModel, make_criterion, setup
from grader.learner import Learner

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
@depends("test_sgd_momentum_mse")
def test_returns_the_loss(learner: Learner) -> None:
    """Returns the loss of the step's own forward pass, as a Python float"""
    problem = make_problem("sgd_mse", seed=5)
    reply = run(learner, problem)
    recipe, weights, _, batches = problem
    # the loss counts only for a step that trains: the parameters each step started from are
    # the reference's, which the learner's step must have reached too
    trajectory = accepted(reply, problem)
    if trajectory is None:
        fail(NOT_TRAINED)
    before = [weights, *trajectory[:-1]]
    for step, (got, (x, y)) in enumerate(zip(reply["returned"], batches, strict=True), 1):
        if "float" not in got:  # a tensor keeps its graph alive in a caller's sum
            grad = " that requires grad" if got.get("requires_grad") else ""
            kind = f"a tensor{grad}" if "tensor" in got else got["wrong_type"]
            said = WRONG_RETURN_TYPE.format(what="train_step", got=kind, want=A_FLOAT)
            fail(said + (KEEPS if "tensor" in got else ""))
        own = loss_with(recipe, before[step - 1], x, y)
        if not near(value := got["float"], own):
            if near(value, loss_with(recipe, trajectory[step - 1], x, y)):
                fail(RETURNED_AFTER.format(got=value, step=step, want=own))
            fail(RETURNED_WRONG.format(got=value, step=step, want=own))


@points(1)
@depends("test_adam_mse")
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
    zero_grad: str = "before",
    step_first: bool = False,
    fresh: bool = False,
    swapped: bool = False,
    clip: float | None = None,
):
    """A train_step with one of the usual mistakes (the defaults make the right step);
    `zero_grad` is "before" (the forward pass), "after" (the update) or "" (never). `clip`
    clips the gradient norm between backward and step, as the lesson's training step does: a
    right step too."""

    def step(model, x, y, criterion, optimizer):
        if fresh:
            optimizer = type(optimizer)(model.parameters(), **optimizer.defaults)
        model.train()
        if zero_grad == "before":
            optimizer.zero_grad()
        out = model(x)
        loss = criterion(y, out) if swapped else criterion(out, y)
        order = (optimizer.step, loss.backward) if step_first else (loss.backward, optimizer.step)
        for action in order:
            if clip is not None and action == optimizer.step:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip)
            action()
        if zero_grad == "after":
            optimizer.zero_grad()
        return loss.item()

    return step


correct = variant()
# zero_grad() between backward() and step() leaves .grad empty when step() runs, exactly like
# step() before backward(): one replay names both, and the calls the runner saw say which.
MISTAKES = {
    "no_zero_grad": variant(zero_grad=""),
    "zero_grad_after_step": variant(zero_grad="after"),
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


def trained(step_fn, problem: tuple) -> list[list[torch.Tensor]]:
    """The parameters after each step of `step_fn` on the problem, run as the probe runs it."""
    recipe, weights, stale, batches = problem
    model, optimizer, criterion = setup(recipe, weights, stale)
    params = []
    for x, y in batches:
        step_fn(model, x.clone(), y.clone(), criterion, optimizer)
        params.append([p.detach().clone() for p in model.parameters()])
    return params


def mistakes(problem: tuple) -> list[Mistake]:
    """The usual mistakes, each replayed on the problem."""
    return [
        Mistake(name, partial(trained, fn, problem), CAUSES[name]) for name, fn in MISTAKES.items()
    ]


def gradient_problem(reply: dict, problem: tuple, step: int) -> str:
    """For a step that cleared .grad, then ran backward and step: what the runner saw of its
    gradients when they explain a wrong update. Changed between backward and step (the norm
    that optimizer.step() found is not the one backward left), or not those of the right loss
    (backward left another norm than criterion(model(inputs), targets) gives from the
    parameters the step started from); "" when neither was seen."""
    found, after = step_norms(reply)[step - 1], step_norms(reply, "backward")[step - 1]
    if len(found) != 1 or not after:
        return ""
    if not near(found[0], after[-1]):
        return GRADIENTS_CHANGED
    recipe, weights, _, batches = problem
    start = [weights, *reply["params"]][step - 1]
    model, _, criterion = setup(recipe, start, [torch.zeros_like(w) for w in start])
    model.train()
    x, y = batches[step - 1]
    criterion(model(x), y).backward()
    norm = float(torch.stack([p.grad.norm() for p in model.parameters()]).norm())
    return "" if near(after[-1], norm) else OTHER_GRADIENTS


def loss_with(recipe: dict, params: list[torch.Tensor], x, y) -> float:
    """The loss of one forward pass of the recipe's model with `params` on (x, y): what the
    learner's own step computed, whatever its earlier steps did to the parameters."""
    model, _, _ = setup(recipe, params, [torch.zeros_like(p) for p in params])
    with torch.no_grad():
        return make_criterion(recipe["criterion"])(model(x), y).item()


def run(learner: Learner, problem: tuple) -> dict:
    """The learner's train_step over the problem's batches; fail with a cause on any error."""
    recipe, weights, stale, batches = problem
    return call(
        learner,
        "training.steps",
        "Your train_step",
        explain=lambda error, reply: loss_hint(recipe, reply.get("loss"), batches[0][1]),
        recipe=recipe,
        weights=weights,
        stale=stale,
        batches=batches,
    )


def loss_hint(recipe: dict, given, targets: torch.Tensor) -> str:
    """What the criterion call that raised was given, as the runner saw it: the arguments
    swapped only when the targets came first and the model's output second; "" when the
    error was not raised inside the criterion."""
    args = [argument(a) for a in given[:2]] if type(given) is list else []
    if len(args) != 2 or None in args:
        return ""
    criterion = LOSSES[recipe["criterion"]]
    if args[0]["role"] in TARGETS and args[1]["role"] == "output":
        return SWAPPED_ERROR.format(criterion=criterion)
    return LOSS_GIVEN.format(
        criterion=criterion, first=said(args[0]), second=said(args[1]), **wanted(recipe, targets)
    )


def argument(found) -> dict | None:
    """One argument of the criterion as the runner described it, if well formed."""
    if type(found) is not dict:
        return None
    if set(found) == {"kind"} and type(found["kind"]) is str:
        return {"kind": found["kind"][:MAX_WORDS], "role": "other"}
    sizes, dtype, role = found.get("shape"), found.get("dtype"), found.get("role")
    if type(sizes) is not list or len(sizes) > 8 or not all(type(n) is int for n in sizes):
        return None
    if type(dtype) is not str or len(dtype) > 20 or role not in ROLES:
        return None
    return {"shape": sizes, "dtype": dtype, "role": role}


def said(arg: dict) -> str:
    """An argument of the criterion, in words: 'a tensor of shape (5,) float32 (the targets
    converted to float32)'."""
    if "kind" in arg:
        return arg["kind"]
    what = f"a tensor of shape {dims(arg['shape'])} {arg['dtype']}"
    return what + ROLES[arg["role"]].format(dtype=arg["dtype"])


def wanted(recipe: dict, targets: torch.Tensor) -> dict:
    """The shapes and dtypes of what the criterion takes in this recipe."""
    output = dims((targets.size(0), recipe["sizes"][-1]))
    return {"output": output, "targets": f"{dims(targets.shape)} {str(targets.dtype)[6:]}"}


def loss_arguments(reply: dict, step: int) -> str:
    """What the criterion was given in a step, when it is not (the model's output, the
    targets as given): an observation for a message; "" otherwise."""
    calls = reply.get("loss")
    found = calls[step - 1] if type(calls) is list and len(calls) >= step else None
    if type(found) is not list or not found or type(found[0]) is not list:
        return ""
    args = [argument(a) for a in found[0][:2]]
    if len(args) != 2 or None in args or [a["role"] for a in args] == ["output", "targets"]:
        return ""
    return LOSS_SEEN.format(first=said(args[0]), second=said(args[1]))


def clip_norms(reply: dict) -> list[float]:
    """The max_norm values a learner's step may have clipped the gradients to: the norms that
    its optimizer.step() calls found (clip_grad_norm_ leaves the norm at max_norm)."""
    found = sorted({round(n, 4) for norms in step_norms(reply) for n in norms})
    return found[:STEPS]


def step_norms(reply: dict, key: str = "norms") -> list[list[float]]:
    """For each step, the gradient norms its optimizer.step() calls found (`key` "backward":
    those its backward passes left): finite numbers only (the runner is the learner's
    process; whatever else it sends counts as none)."""
    norms = reply.get(key)
    norms = norms if type(norms) is list else []
    return [
        [n for n in found if type(n) is float and math.isfinite(n)] if type(found) is list else []
        for found in [*norms[:STEPS], *[[]] * (STEPS - len(norms[:STEPS]))]
    ]


def accepted(reply: dict, problem: tuple) -> list | None:
    """The parameters after each step of a right step that the learner's match: the
    reference's, or the reference's clipping the gradient norm between backward and step."""
    for step_fn in (correct, *(variant(clip=m) for m in clip_norms(reply) if m > 0)):
        if all_close(reply["params"], params := trained(step_fn, problem)):
            return params
    return None


def judge_parameters(learner: Learner, name: str, seed: int) -> None:
    """Fail with the most specific message unless every step leaves the parameters as the
    reference's does (with or without clipping the gradient norm before the update)."""
    problem = make_problem(name, seed)
    reply = run(learner, problem)
    if accepted(reply, problem) is not None:
        return
    expected = trained(correct, problem)
    for step, (got, want) in enumerate(zip(reply["params"], expected, strict=True), 1):
        if all_close(got, want):
            continue
        if found := matching(reply["params"], mistakes(problem), all_close):
            fail(cause_message(found, reply["calls"]))
        diff = max(float((g - w).abs().max()) for g, w in zip(got, want, strict=True))
        done = reply["calls"][step - 1]
        calls = ", ".join(done) or "nothing"
        facts = {"step": step, "recipe": described(problem[0]), "calls": calls}
        seen = loss_arguments(reply, step)
        if "step" in done and stepped(reply, step) == 0:
            fail(OTHER_OPTIMIZER.format(**facts))
        if cleared_first(done) and (found := gradient_problem(reply, problem, step)):
            fail(found.format(**facts) + seen)
        wrong = WRONG_IN_ORDER if in_right_order(done) else WRONG
        fail(wrong.format(diff=diff, **facts) + seen)


def cause_message(found: Mistake, calls: list[list[str]]) -> str:
    """The message of a replayed mistake, in the terms of what the learner's step called."""
    if found.name != "step_before_backward" or not calls:
        return found.message
    if zero_grad_between(calls[0]):
        return ZERO_GRAD_BETWEEN
    if missing := [name for name in ("backward", "step") if name not in calls[0]]:
        return NEVER_CALLED.format(what=" or ".join(CALL_NAMES[name] for name in missing))
    return NO_GRADIENT_REACHED if in_order(calls[0]) else found.message


def zero_grad_between(calls: list[str]) -> bool:
    """A step's calls hold a zero_grad after its backward and before its step."""
    if "backward" not in calls:
        return False
    after = calls[calls.index("backward") :]
    return "step" in after and "zero_grad" in after[: after.index("step")]


def stepped(reply: dict, step: int) -> int | None:
    """How often the optimizer the step was given stepped in it (None: not known)."""
    counts = reply.get("stepped")
    found = counts[step - 1] if type(counts) is list and len(counts) >= step else None
    return found if type(found) is int else None


def in_right_order(calls: list[str]) -> bool:
    """A step's calls are a right step's: zero_grad, forward and loss before one backward,
    then one step, and no zero_grad between backward and step."""
    if [c for c in calls if c in ("backward", "step")] != ["backward", "step"]:
        return False
    before = calls[: calls.index("backward")]
    return (
        cleared_first(calls) and not zero_grad_between(calls) and {"forward", "loss"} <= set(before)
    )


def cleared_first(calls: list[str]) -> bool:
    """A step's calls hold a zero_grad, then a backward and, after it, a step."""
    return in_order(calls) and "zero_grad" in calls[: calls.index("backward")]


def in_order(calls: list[str]) -> bool:
    """A step's calls hold a backward and, after it, a step."""
    return "backward" in calls and "step" in calls[calls.index("backward") :]


def described(recipe: dict) -> str:
    return f"{OPTIMIZERS[recipe['optimizer']]}, {LOSSES[recipe['criterion']]}"


# --------------------------------------------------------------------- messages

CAUSES = {
    "no_zero_grad": (
        "Your parameters match a step that never clears the gradients: loss.backward() ADDS "
        "into .grad, so the stale gradients of earlier steps are applied again and again. Call "
        "optimizer.zero_grad() before the backward pass."
    ),
    "zero_grad_after_step": (
        "Your parameters match a step that calls optimizer.zero_grad() AFTER optimizer.step(): "
        "the first step then applies the stale gradients that were already in .grad (the model "
        "came with some) plus its own. Later steps are right only because the previous one "
        "cleared .grad. Call optimizer.zero_grad() at the start of the step, before backward."
    ),
    "step_before_backward": (
        "Your step never changes the parameters: optimizer.step() runs BEFORE loss.backward(), "
        "so it finds no new gradients. The order is zero_grad, forward, loss, backward, step."
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
ZERO_GRAD_BETWEEN = (
    "Your step never changes the parameters: it calls zero_grad() between loss.backward() and "
    "optimizer.step(), so step() finds the gradients already erased. The order is zero_grad, "
    "forward, loss, backward, step."
)
CALL_NAMES = {"backward": "loss.backward()", "step": "optimizer.step()"}
NEVER_CALLED = (
    "Your step never changes the parameters: it never calls {what}. One step is zero_grad, "
    "forward, loss = criterion(outputs, targets), loss.backward(), optimizer.step()."
)
NO_GRADIENT_REACHED = (
    "Your step never changes the parameters, though it calls loss.backward() and then "
    "optimizer.step(). "
    + NO_GRADIENT.format(name="the parameters", what="your loss")
    + " Use loss = criterion(model(inputs), targets) as it is."
)
WRONG = (
    "After step {step} ({recipe}) your parameters differ from the reference's (largest "
    "difference {diff:.3g}) and match none of the usual mistakes. Your step called: {calls}. "
    "The right order is zero_grad, forward, loss = criterion(outputs, targets), backward, step, "
    "with the optimizer you are given."
)
WRONG_IN_ORDER = (
    "After step {step} ({recipe}) your parameters differ from the reference's (largest "
    "difference {diff:.3g}) and match none of the usual mistakes. Your step called {calls}, "
    "in the right order, with the optimizer it was given; what else differs is not known "
    "here. Compare it with loss = criterion(model(inputs), targets), backward, step."
)
OTHER_OPTIMIZER = (
    "After step {step} ({recipe}) your parameters differ from the reference's: your step "
    "called step() of another optimizer, never of the one it was given (it called: {calls}). "
    "Another optimizer has its own settings and state (a new one made in the step starts its "
    "momentum or Adam's running averages from zero each time). Use the optimizer you are given."
)
GRADIENTS_CHANGED = (
    "After step {step} ({recipe}) your parameters differ from the reference's, and the gradients "
    "that optimizer.step() found are not those your loss.backward() computed: your step "
    "changed .grad in between (clip_grad_value_, scaling or editing the gradients?). Your step "
    "called: {calls}. Between backward and step only clipping the gradient NORM, "
    "clip_grad_norm_(model.parameters(), max_norm), as the lesson does, is allowed."
)
OTHER_GRADIENTS = (
    "After step {step} ({recipe}) your parameters differ from the reference's: the gradients "
    "your loss.backward() left in .grad are not those of criterion(model(inputs), targets) "
    "from the parameters the step started from, so what was backpropagated differs. Your step "
    "called: {calls}."
)
LOSS_SEEN = " Your criterion was given {first}, then {second}."
SWAPPED_ERROR = (
    "Your {criterion} was given the targets first and the model's output second: PyTorch "
    "losses take criterion(outputs, targets), the prediction first."
)
LOSS_GIVEN = (
    "Your {criterion} was given {first}, then {second}. It takes the model's output, of shape "
    "{output} float32, then the targets as train_step was given them, {targets}."
)
ROLES = {  # what an argument of the criterion was, as the runner saw it
    "output": " (the model's output)",
    "targets": " (the targets as given)",
    "targets converted": " (the targets converted to {dtype})",
    "other": "",
}
TARGETS = ("targets", "targets converted")
MAX_WORDS = 120  # characters of a description of what the criterion was given
A_FLOAT = "the loss as a Python float, loss.item()"
KEEPS = (
    " A caller that adds up losses (total += loss) would otherwise keep every step's tensor, "
    "and with it each step's autograd history, alive."
)
NOT_TRAINED = (
    "Your train_step's parameters differ from the reference's on this problem (SGD with "
    "momentum, MSELoss): the loss it returns counts only for a step that trains the model. "
    "Make the parameter checks pass first."
)
RETURNED_AFTER = (
    "train_step returned {got:.6g} at step {step}, which is the loss AFTER the update (a second "
    "forward pass); return the loss of the forward pass that was backpropagated: {want:.6g}."
)
RETURNED_WRONG = (
    "train_step returned {got:.6g} at step {step}; the loss of that step's forward pass, with "
    "the parameters the step started from, is {want:.6g}."
)
MODE = (
    "The model was in {mode} mode during your step{extra}. Call model.train() at the start of "
    "the step: dropout and batch norm behave differently when training."
)
PASSES = "Your step ran {n} forward passes; one step is one forward pass."
