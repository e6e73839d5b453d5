"""Probe for exercise 2: run the learner's train_step for several steps on a small model and
report, for each step, what it returned, the parameters after it, the mode of each forward
pass, what the step did in order (zero_grad, forward, loss, backward, step), the gradients
its backward left and its optimizer.step() found, whether the optimizer it was given is the
one that stepped, and what the criterion was given."""

from __future__ import annotations

import types

import torch

from grader.confined.probes.common import copied, described, same, training_calls, trusted
from grader.confined.probes.models import setup
from grader.confined.runner import describe

MAX_CALLS = 5  # criterion calls and gradient norms recorded per step
STEP_KEYS = ("returned", "params", "modes", "calls", "norms", "stepped", "backward", "loss")


def steps(
    learner: types.ModuleType,
    recipe: dict,
    weights: list[torch.Tensor],
    stale: list[torch.Tensor],
    batches: list[list[torch.Tensor]],
) -> dict:
    """Call train_step once per (inputs, targets) batch; after each, record the returned
    value, the parameters, the mode of each forward pass, the step's calls in order, the total
    gradient norm after each backward and at each step of the given optimizer (a step that
    clips the gradient norm, as the lesson does, is replayed with the same max_norm), and how
    the criterion was called. An error comes back with the criterion's arguments when it was
    raised inside the criterion."""
    model, optimizer, criterion = setup(recipe, weights, stale)
    record = Record(model)
    optimizer.register_step_pre_hook(lambda *_: record.stepped.append(_grad_norm(model)))
    model.register_forward_pre_hook(lambda *_: record.events.append("forward"))
    model.register_forward_hook(record.on_output)
    criterion.register_forward_pre_hook(record.on_loss)
    criterion.register_forward_hook(record.on_loss_done)
    for inputs, targets in batches:
        record.start(targets.clone())
        try:
            with training_calls(record.events, record.on_backward):
                value = learner.train_step(
                    model, inputs.clone(), record.targets, criterion, optimizer
                )
        except Exception as exc:  # the learner's error, with what the criterion was given
            return {"error": describe(exc, learner.__file__), "loss": record.failed_loss()}
        record.end(value)
    return record.reply()


class Record:
    """What each step of the learner's train_step did, as plain data."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.events: list[str] = []
        self.stepped: list[float] = []
        self.backward: list[float] = []
        self.loss: list[dict] = []
        self.output: torch.Tensor | None = None
        self.targets = torch.empty(0)
        self.steps: dict[str, list] = {key: [] for key in STEP_KEYS}

    def start(self, targets: torch.Tensor) -> None:
        self.model.modes.clear()
        for found in (self.events, self.stepped, self.backward, self.loss):
            found.clear()
        self.output, self.targets = None, targets

    def on_output(self, module, args, output) -> None:
        self.output = output

    def on_backward(self) -> None:
        if len(self.backward) < MAX_CALLS:
            self.backward.append(_grad_norm(self.model))

    def on_loss(self, module, args) -> None:
        if len(self.loss) < MAX_CALLS:
            given = [_argument(a, self.output, self.targets) for a in args[:2]]
            self.loss.append({"given": given, "done": False})

    def on_loss_done(self, module, args, output) -> None:
        self.events.append("loss")
        if self.loss:
            self.loss[-1]["done"] = True

    def failed_loss(self) -> list[dict]:
        """What the criterion call that raised was given ([] if none raised)."""
        return next((c["given"] for c in reversed(self.loss) if not c["done"]), [])

    def end(self, value) -> None:
        found = self.steps
        found["returned"].append(_returned(value))
        found["params"].append([copied(p) for p in self.model.parameters()])
        found["modes"].append(list(self.model.modes))
        found["calls"].append(list(self.events[:50]))
        found["norms"].append(list(self.stepped[:MAX_CALLS]))
        found["stepped"].append(len(self.stepped))
        found["backward"].append(list(self.backward))
        found["loss"].append([c["given"] for c in self.loss])

    def reply(self) -> dict:
        return dict(self.steps)


def _argument(value, output, targets: torch.Tensor) -> dict:
    """One argument the criterion was given: its shape and dtype, and whether it is the
    model's output, the targets train_step was given, or those targets converted. Never
    raises: it runs inside the learner's call."""
    if type(value) is not torch.Tensor:
        return {"kind": described(value)}
    try:
        with trusted():
            converted = value.shape == targets.shape and same(value.to(targets.dtype), targets)
    except Exception:  # a tensor that cannot be converted is not the targets
        converted = False
    role = "output" if value is output else "targets" if value is targets else "other"
    role = "targets converted" if role == "other" and converted else role
    shape = [int(d) for d in value.shape]
    return {"shape": shape, "dtype": str(value.dtype).split(".")[-1], "role": role}


def _grad_norm(model: torch.nn.Module) -> float:
    """The total L2 norm of the model's gradients, as clip_grad_norm_ computes it."""
    grads = [p.grad.detach().norm() for p in model.parameters() if p.grad is not None]
    return float(torch.stack(grads).norm()) if grads else 0.0


def _returned(value) -> dict:
    """What train_step returned: a float as is; a tensor described with its value."""
    if type(value) is float:
        return {"float": value}
    if type(value) is torch.Tensor:
        number = float(value.detach().reshape(-1)[0]) if value.numel() else None
        return {"tensor": number, "requires_grad": bool(value.requires_grad)}
    return {"wrong_type": described(value)}
