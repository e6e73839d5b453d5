"""Checks for exercise 5: `input_gradient_norms`, the vanishing-gradient experiment.

The runner builds nn.RNN and nn.LSTM layers with weights sent from here, calls the learner's
function and returns the norms and the state the model was left in. The reference computes the
expected norms on the same layer here; norms that span many orders of magnitude are compared
as logarithms. When they differ, the usual mistakes (another output, norms over another axis,
no square root) are replayed to name the cause. Leaving the model as it was found counts only
for a function that measures the right norms.
"""

from __future__ import annotations

from types import ModuleType

import torch

from grader.checking import call, defines, depends, fail, messages, points, tensor
from grader.checking.explainers import Comparison, explain
from grader.checking.messages import dtype_name
from grader.checking.values import close, shape
from grader.confined.probes.gradients import LAYERS, recurrent_layer
from grader.figures import curve, record_figure
from grader.learner import Learner

EXERCISE = "05_vanishing_gradients"
WHAT = "Your input_gradient_norms"


test_imports = defines("input_gradient_norms")


@points(2)
@depends("test_imports")
def test_rnn(learner: Learner, reference: ModuleType) -> None:
    """Norms through a tanh nn.RNN (float32 and float64) equal the reference's"""
    for sizes, steps, dtype in (((3, 8, 1), 12, "float32"), ((2, 5, 2), 9, "float64")):
        case = Case("rnn", sizes, steps, seed=1, dtype=dtype)
        judge(run(learner, case), case, f"nn.RNN{sizes} over {steps} steps in {dtype}", reference)


@points(2)
@depends("test_imports")
def test_lstm(learner: Learner, reference: ModuleType) -> None:
    """Norms through nn.LSTM of one and two layers equal the reference's"""
    for sizes, steps, dtype in (((3, 6, 2), 10, "float64"), ((4, 7, 1), 8, "float32")):
        case = Case("lstm", sizes, steps, seed=2, dtype=dtype)
        judge(run(learner, case), case, f"nn.LSTM{sizes} over {steps} steps in {dtype}", reference)


@points(2)
@depends("test_imports")
def test_long_sequences(learner: Learner, reference: ModuleType) -> None:
    """Over 100 steps, where the norms span many orders of magnitude, they equal the reference's"""
    for kind, forget_bias in (("rnn", None), ("lstm", 1.0)):
        case = Case(kind, (8, 32, 1), 100, seed=3, forget_bias=forget_bias)
        name = "nn.RNN" if kind == "rnn" else "nn.LSTM (forget-gate bias 1)"
        judge(run(learner, case), case, f"{name} over 100 steps", reference)


@points(2)
@depends("test_lstm")
def test_leaves_model_as_found(learner: Learner) -> None:
    """The model's parameters and gradients are left as they were, with and without .grad"""
    case = Case("lstm", (3, 5, 2), 6, seed=4)
    stale = [torch.randn_like(w) for w in case.weights]
    for given in (None, stale):
        reply = run(learner, case, stale=given)
        for got, want in zip(reply["params"], case.weights, strict=True):
            if type(got) is not torch.Tensor or not torch.equal(got, want):
                fail(PARAMS_CHANGED)
        for got, want in zip(reply["grads"], given or [None] * len(case.weights), strict=True):
            if problem := gradient_problem(got, want):
                fail(problem)
        if not all(reply["requires_grad"]):
            fail(REQUIRES_GRAD_CHANGED)
        if reply["inputs_changed"]:
            fail(INPUTS_CHANGED)


# --------------------------------------------------------------------- helpers


class Case:
    """A layer's weights and one input sequence, made from a seed."""

    def __init__(self, kind, sizes, steps, seed, dtype="float64", forget_bias=None) -> None:
        self.kind, self.sizes, self.dtype = kind, tuple(sizes), dtype
        torch.manual_seed(seed)
        input_size, hidden, layers = sizes
        model = LAYERS[kind](input_size, hidden, num_layers=layers, batch_first=True)
        if forget_bias is not None:
            with torch.no_grad():
                for name, p in model.named_parameters():
                    if name.startswith("bias_ih"):
                        p[hidden : 2 * hidden] = forget_bias
        self.weights = [p.detach().clone() for p in model.parameters()]
        self.inputs = torch.randn(1, steps, input_size, dtype=getattr(torch, dtype))

    def layer(self) -> torch.nn.Module:
        """The checker's own copy of the layer the runner builds."""
        return recurrent_layer(self.kind, list(self.sizes), self.weights, self.dtype)


def run(learner: Learner, case: Case, stale=None) -> dict:
    return call(
        learner,
        "gradients.norms",
        WHAT,
        explain=lambda error, _: error_hint(error, learner),
        kind=case.kind,
        sizes=list(case.sizes),
        weights=case.weights,
        inputs=case.inputs,
        dtype=case.dtype,
        stale=stale,
    )


def error_hint(error: dict, learner: Learner) -> str:
    """What an error of input_gradient_norms most likely means, or ""."""
    text, code = error.get("message", ""), error.get("code") or line_of(learner, error)
    if "does not require grad" in text or ("NoneType" in text and ".grad" in code):
        return REQUIRES_GRAD
    return ""


def line_of(learner: Learner, error: dict) -> str:
    """The learner's line where the error happened, read here from the file."""
    try:
        return learner.path.read_text("utf-8").splitlines()[int(error["line"]) - 1]
    except (KeyError, IndexError, ValueError, OSError, UnicodeDecodeError):
        return ""


def gradient_problem(got, want) -> str | None:
    """What the learner's function did to one parameter's .grad (`want`: what was there)."""
    if want is None:
        if got is None:
            return None
        zeros = type(got) is torch.Tensor and not bool(got.any())
        return GRAD_DIRTY.format(where=" (zeros where there were none)" if zeros else "")
    if got is None:
        return GRAD_ERASED.format(how="erased")
    if type(got) is torch.Tensor and torch.equal(got, want):
        return None
    if type(got) is torch.Tensor and not bool(got.any()):
        return GRAD_ERASED.format(how="set to zero")
    return GRAD_DIRTY.format(where=" (added to the caller's)")


def gradient_of(model, inputs: torch.Tensor, select) -> torch.Tensor:
    """d(select(out, h_n, c_n).sum()) / d(inputs), for the one sequence: (seq_len, input_size)."""
    x = inputs.detach().requires_grad_()
    with torch.enable_grad():
        out, state = model(x)
        h_n, c_n = state if isinstance(model, torch.nn.LSTM) else (state, None)
        (grad,) = torch.autograd.grad(select(out, h_n, c_n).sum(), x)
    return grad[0]


def last_output(out, h_n, c_n) -> torch.Tensor:
    return out[:, -1]


def norms(grad: torch.Tensor, dim: int = -1) -> torch.Tensor:
    return torch.linalg.vector_norm(grad, dim=dim)


def mistakes(model, inputs: torch.Tensor) -> dict[str, torch.Tensor]:
    """What the usual mistakes compute, on the checker's own copy of the layer."""

    def norms_of(select) -> torch.Tensor:
        return norms(gradient_of(model, inputs, select))

    right = gradient_of(model, inputs, last_output)
    found = {
        "first_step": norms_of(lambda out, h_n, c_n: out[:, 0]),
        "all_steps": norms_of(lambda out, h_n, c_n: out),
        "h_n_all_layers": norms_of(lambda out, h_n, c_n: h_n),
        "bottom_layer": norms_of(lambda out, h_n, c_n: h_n[0]),
    }
    if isinstance(model, torch.nn.LSTM):
        found["cell_state"] = norms_of(lambda out, h_n, c_n: c_n[-1])
    found["squared"] = norms(right) ** 2
    found["l1"] = right.abs().sum(dim=-1)
    found["reversed"] = norms(right).flip(0)
    if model.num_layers == 1:
        del found["h_n_all_layers"], found["bottom_layer"]  # the same as the right answer
    return found


def same_norms(got: torch.Tensor, want: torch.Tensor, tolerance: float) -> bool:
    """Equal where both are zero, and equal as logarithms (relative error) elsewhere."""
    zero = want == 0
    if got.shape != want.shape or not torch.equal(got == 0, zero):
        return False
    if not bool(torch.isfinite(got).all() and (got >= 0).all()):
        return False
    gap = (got[~zero].log() - want[~zero].log()).abs()
    return bool((gap <= tolerance).all())


def shape_key(got: torch.Tensor, model, inputs: torch.Tensor, tolerance: float) -> str:
    """Which of the SHAPES messages fits norms of the wrong shape: a cause ("features", the
    norm over time; "no_norm", the gradient itself) only when the learner's values are it."""
    t, features = inputs.shape[1], inputs.shape[2]
    if got.dim() == 0:
        return "scalar"
    if tuple(got.shape) == (1, t):
        return "batch"
    if got.numel() == t * features and got.shape[-1] == features:
        grad = gradient_of(model, inputs, last_output)
        return (
            "no_norm"
            if close(got.reshape(t, features), grad, tolerance, tolerance)
            else "steps_features"
        )
    if tuple(got.shape) in ((features,), (1, features)):
        over_time = norms(gradient_of(model, inputs, last_output), dim=0)
        return "features" if same_norms(got.reshape(-1), over_time, tolerance) else "per_feature"
    return "other"


def judge(reply: dict, case: Case, what: str, reference: ModuleType) -> None:
    """Fail with the most specific message unless the norms equal the reference's, compared
    as logarithms (relative error) since they span many orders of magnitude."""
    got = tensor(reply["norms"], WHAT)
    inputs, model = case.inputs, case.layer()
    t = inputs.shape[1]
    tolerance = 1e-6 if inputs.dtype == torch.float64 else 1e-3
    if tuple(got.shape) != (t,):
        key = shape_key(got.to(inputs.dtype), model, inputs, tolerance)
        fail(SHAPES[key].format(got=shape(got), t=t, norm=VECTOR_NORM))
    if got.dtype != inputs.dtype:
        mine, given = f"{dtype_name(got.dtype)} norms", dtype_name(inputs.dtype)
        fail(messages.DTYPE.format(what=WHAT, got=mine, want=given) + UNDERFLOW)
    expected = reference.input_gradient_norms(model, inputs)
    record_figure(
        "Gradient norm per time step",
        curve("reference", expected),
        curve("yours", got),
        caption=what,
        xlabel="time step t",
        ylabel="norm of d(sum y_T)/dx_t",
        log_y=True,
    )
    if same_norms(got, expected, tolerance):
        return
    for cause, candidate in mistakes(model, inputs).items():
        if same_norms(got, candidate, tolerance):
            fail(CAUSES[cause])
    if not bool(torch.isfinite(got).all() and (got > 0).all()):
        fail(NOT_POSITIVE.format(case=what))
    gap = (got.log() - expected.log()).abs()
    first = int((gap > tolerance).nonzero()[0])
    relation = explain(Comparison(got, expected, 0.0, tolerance, "Your norms", time_dim=0))
    wrong = WRONG.format(case=what, where=f" from step {first} on", diff=float(gap.max()))
    fail(f"{wrong} {relation}".strip())


# --------------------------------------------------------------------- messages

REQUIRES_GRAD = (
    "Autograd computes gradients only for tensors that require them, and the inputs do not: "
    "make a copy that does, x = inputs.detach().requires_grad_(), run the model on x and "
    "differentiate with respect to x."
)
VECTOR_NORM = "torch.linalg.vector_norm(grad[0], dim=-1)"
SHAPES = {
    "features": "Your norms have shape {got}, one per input feature: the norm was taken over time. Take it over the last dimension, the features, once per time step: {norm} gives ({t},).",
    "per_feature": "Your norms have shape {got}, as many as the input features; expected ({t},), one per time step: {norm}, the norm over the features at each step.",
    "batch": "Your norms have shape {got}: the batch dimension of size 1 is still there. Drop it: {norm} gives ({t},).",
    "scalar": "Your function returned one number; it must return one norm per time step, shape ({t},): {norm}.",
    "no_norm": "Your result has shape {got}: the gradient itself, not its norms. Take the L2 norm over the features at each step: {norm} gives ({t},).",
    "steps_features": "Your result has shape {got}, one value per time step and feature; expected ({t},), one L2 norm per time step: {norm}.",
    "other": "Your norms have shape {got}; expected ({t},), one per time step of a sequence of {t}.",
}
UNDERFLOW = " Small norms underflow in float32."
CAUSES = {
    "first_step": "Your norms are those of the output at the FIRST time step, out[:, 0]. The experiment asks how the LAST output, out[:, -1], depends on each input.",
    "all_steps": "Your norms are those of the sum of the outputs at EVERY time step, as out.sum() gives (or out[-1] and out[0]: with batch_first=True and a batch of one sequence, they select that whole sequence, every step of it). Only the last step's output counts: out[:, -1].sum().",
    "h_n_all_layers": "Your norms are those of h_n summed over ALL layers. Use the top layer only: out[:, -1], or h_n[-1].",
    "bottom_layer": "Your norms are those of h_n[0], the BOTTOM layer's final hidden state. h_n is (num_layers, batch, hidden) with the bottom layer first, so with two layers h_n[0] is not the output: use out[:, -1], or h_n[-1] (the top layer).",
    "cell_state": "Your norms are those of the final CELL state c_n. The output is the hidden state: out[:, -1] (or h_n[-1]), not c_n.",
    "squared": "Your norms are the SQUARES of the L2 norms: take the square root, or use torch.linalg.vector_norm(grad[0], dim=-1).",
    "l1": "Your norms are L1 norms (sums of absolute values); the experiment uses the L2 norm, torch.linalg.vector_norm(grad[0], dim=-1).",
    "reversed": "Your norms are in reverse order: entry t must belong to the input at step t, so entry 0 is the FIRST step (the farthest from the output).",
}
WRONG = (
    "Your norms for {case} differ from the reference's{where} (their logarithms differ by up "
    "to {diff:.3g}), "
    + messages.NONE_MATCH
    + " Check that you differentiate out[:, -1].sum() with respect to the inputs and take the "
    "L2 norm over the features."
)
NOT_POSITIVE = (
    "Your norms for {case} include zeros, negative values, NaN or infinity, where the "
    "reference's are all positive and finite. A norm is never negative; a zero means no "
    "gradient reached that input."
)
CHANGED_MODEL = messages.MUTATED_ARGUMENT.format(what=WHAT, name="model")
PARAMS_CHANGED = CHANGED_MODEL + " It changed the parameters: a measurement never updates them."
GRAD_DIRTY = (
    "Your function left gradients in the parameters' .grad{where}: loss.backward() adds the "
    "gradient of every parameter there. Use torch.autograd.grad(output, x), which touches no "
    ".grad, or put back exactly what was there before."
)
GRAD_ERASED = (
    "Your function {how} the gradients that were already in the parameters' .grad: they belong "
    "to the caller (a training step in progress, say). Use torch.autograd.grad(output, x), "
    "which leaves .grad alone, rather than backward() and zero_grad()."
)
REQUIRES_GRAD_CHANGED = CHANGED_MODEL + " It changed the parameters' requires_grad flags."
INPUTS_CHANGED = messages.INPUT_CHANGED.format(what=WHAT, name="inputs")
