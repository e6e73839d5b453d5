"""Checks for exercise 3: `LSTMCell`, one LSTM step built from its gates.

The learner's cell gets weights by parameter name (weight_ih, weight_hh, bias_ih, bias_hh) and
is compared with torch's own nn.LSTMCell and, unrolled, with a one-layer nn.LSTM on the same
weights. When values differ, the usual mistakes (gates in another order, activations swapped,
no tanh on the cell, the cell updated from h, a bias left out) are replayed to name the cause.
Every check of what the cell computes builds on the first one: a cell that gives wrong h and c
is not also told that its default state or its gradients are wrong.

The statement asks for the gates to be built without torch's LSTM code. The source is read for
it here and a tripwire in the runner watches for it, but learner code runs in the same process
as the tripwire and can always hide a call from both, so that check is advice, worth no
points, and blocks nothing: the points are for what the cell computes.
"""

from __future__ import annotations

import itertools
from functools import partial

import torch
import torch.nn as nn

from grader.analysis import torch_uses
from grader.checking import call, defines, depends, fail, points, tensor
from grader.checking.compare import (
    also,
    conforming_series,
    expect_parameters,
    expect_series,
    first_difference,
    same_series,
)
from grader.checking.diagnosis import Hint, hints, matching, variants
from grader.checking.messages import dtype_name
from grader.checking.reference import gradients_of, leaf, loaded, seeded_weights
from grader.checking.values import close, max_difference, shape, tolerance
from grader.confined.probes.lstm_cell import FUSED
from grader.learner import Learner

EXERCISE = "03_lstm_cell"
SIZES = (5, 4)  # input_size, hidden_size: 4H = 16 rows of weights
OTHER_SIZES = (3, 7)  # another cell, so that sizes written into the code show
BATCH = 3
OPEN = 30.0  # a gate bias of +30 holds the gate at 1; -30 holds it at 0 (in float64)
EXACT = (1e-9, 1e-7)  # float64 with a gate held at exactly 0 or 1
FORBIDDEN = {"LSTM", "LSTMCell", "_VF", *FUSED}  # torch names that compute the gates


test_imports = defines("LSTMCell")


@points(0)
@depends("test_imports")
def test_parameters(learner: Learner) -> None:
    """LSTMCell has weight_ih, weight_hh, bias_ih and bias_hh of PyTorch's shapes"""
    for sizes in (SIZES, (3, 7), (1, 2)):
        i, h = sizes
        reply = call(
            learner, "lstm_cell.build", f"LSTMCell{sizes}", expected=SUBCLASS, sizes=[i, h]
        )
        found = {name: tuple(s) for name, s in reply["parameters"]}
        wanted = {
            "weight_ih": (4 * h, i),
            "weight_hh": (4 * h, h),
            "bias_ih": (4 * h,),
            "bias_hh": (4 * h,),
        }
        expect_parameters(
            found, wanted, MISSING_PARAMETER, PARAMETER_SHAPE, EXTRA_PARAMETERS, sizes=sizes
        )


@points(0)
@depends("test_parameters")
def test_builds_its_own_gates(learner: Learner) -> None:
    """Advice, worth no points: the cell computes its own gates, without torch's LSTM code"""
    file = learner.path.name
    if uses := torch_uses(learner.source, FORBIDDEN):  # the file as read once, safely
        what, line, code = uses[0]
        fail(NOT_OWN.format(file=file, what=what, where=f" at line {line} (`{code}`)"))
    reply = call(learner, "lstm_cell.build", "LSTMCell", expected=SUBCLASS, sizes=list(SIZES))
    if builtin := reply.get("builtin"):
        fail(NOT_OWN.format(file=file, what=" and ".join(builtin), where=" inside LSTMCell"))
    weights, xs, state = problem(0)  # one step, with the tripwire on; errors are not advice
    args = {"sizes": list(SIZES), "weights": weights, "xs": xs, "state": state}
    reply = call(learner, "lstm_cell.steps", "LSTMCell", allow_error=True, expected=PAIR, **args)
    if used := reply.get("used"):
        fail(NOT_OWN.format(file=file, what=" and ".join(used), where=" when it runs"))


@points(3)
@depends("test_parameters")
def test_matches_lstm_cell(on_device: Learner) -> None:
    """One step from a given state equals nn.LSTMCell's with the same weights"""
    for sizes in (SIZES, OTHER_SIZES):
        weights, xs, state = problem(1, sizes=sizes)
        reply = run(on_device, weights, xs, state, device=on_device.device, sizes=sizes)
        case = f"LSTMCell{sizes} on a batch of {BATCH} with a given state"
        judge(reply, weights, xs, state, case, tolerance(on_device.device), sizes=sizes)


@points(3)
@depends("test_matches_lstm_cell")
def test_gradients(learner: Learner) -> None:
    """Gradients for the four parameters, x, h and c equal nn.LSTMCell's"""
    weights, xs, state = problem(3)
    upstream = [torch.randn(BATCH, SIZES[1]) for _ in range(2)]
    reply = run(learner, weights, xs, state, upstream=upstream)
    judge(reply, weights, xs, state, f"a batch of {BATCH}")
    grads = reply.get("grads")
    if grads is None or grads.get("detached"):
        fail(NO_GRAD)
    if found := first_difference(
        grads, expected_gradients(weights, xs[0], state, upstream), *tolerance()
    ):
        name = SHOWN.get(found.name, found.name)
        if found.missing:
            fail(MISSING_GRAD.format(name=name, why=WHY_NO_GRAD[found.name in SHOWN]))
        fail(WRONG_GRAD.format(name=name, diff=found.diff))


@points(2)
@depends("test_matches_lstm_cell")
def test_gates_mean_what_they_say(learner: Learner) -> None:
    """An open forget gate with a closed input gate keeps c; a closed forget gate erases it"""
    dtype = torch.float64
    weights, xs, state = problem(5, dtype=dtype)
    keep = gates_held(weights, input_gate=-OPEN, forget_gate=OPEN)
    reply = run(learner, keep, xs, state, dtype="float64")
    c = tensor(reply["c"][0], "Your forward's c")
    if not close(c, state[1], EXACT[0], EXACT[0]):
        diff = max_difference(c, state[1]) if c.shape == state[1].shape else float("nan")
        fail(KEEPS.format(diff=diff) + also(cause(reply, keep, xs, state)))
    judge(reply, keep, xs, state, "an open forget gate", tolerance(dtype=dtype))

    erase = gates_held(make_weights(5, dtype), input_gate=OPEN, forget_gate=-OPEN)
    other = [state[0], torch.randn_like(state[1]) * 3]  # another old cell state, the same h
    replies = [run(learner, erase, xs, s, dtype="float64") for s in (state, other)]
    first, second = replies[0]["c"][0], replies[1]["c"][0]
    if not close(first, second, EXACT[0], EXACT[0]):
        found = cause(replies[0], erase, xs, state)
        fail(ERASES.format(how="changes when only c_prev changes") + also(found))
    judge(replies[0], erase, xs, state, "a closed forget gate", tolerance(dtype=dtype))


@points(1)
@depends("test_matches_lstm_cell")
def test_unrolled(learner: Learner) -> None:
    """Unrolled over 6 steps, the cell equals a one-layer nn.LSTM"""
    steps = 6
    weights, xs, state = problem(7, steps=steps)
    reply = run(learner, weights, xs, state)
    out, c_n = unrolled_lstm(weights, xs, state)
    first = {"h": reply["h"][:1], "c": reply["c"][:1]}
    changed = {"state_changed_at": reply.get("state_changed_at")}
    judge(first | changed, weights, xs[:1], state, "the first step")
    for which, got, want in (("h", reply["h"], list(out)), ("c", reply["c"][-1:], [c_n])):
        for t, (value, expected) in enumerate(zip(got, want, strict=True)):
            value = tensor(value, f"Your forward's {which}")
            if not close(value, expected, *tolerance()):
                step = t + 1 if which == "h" else steps
                diff = max_difference(value, expected)
                fail(UNROLLED.format(steps=steps, which=which, t=step, diff=diff))


@points(1)
@depends("test_matches_lstm_cell")
def test_default_state(on_device: Learner) -> None:
    """Without a state, the cell starts from zeros on x's device"""
    weights, xs, _ = problem(9)
    reply = run(on_device, weights, xs, None, device=on_device.device)
    want, case = truth(weights, SIZES, xs, None), "cell(x) without a state"
    got = conforming_series(reply, want, FORWARD, WRONG_SHAPE, WRONG_DTYPE, case=case, hint="")
    first = {which: values[0] for which, values in got.items()}
    if found := first_difference(
        first, {which: values[0] for which, values in want.items()}, *tolerance(on_device.device)
    ):
        fail(DEFAULT_STATE.format(which=found.name, diff=found.diff))


@points(1)
@depends("test_default_state")
def test_float64(learner: Learner) -> None:
    """float64 input and weights give float64 h and c, with and without a state"""
    weights, xs, state = problem(11, dtype=torch.float64)
    for given in (None, state):
        case = "float64 input" + (" with a state" if given else " without a state")
        reply = run(learner, weights, xs, given, dtype="float64")
        judge(reply, weights, xs, given, case, tolerance(dtype=torch.float64))


@points(1)
@depends("test_default_state")
def test_unbatched(learner: Learner) -> None:
    """One sample of shape (input_size,) gives h and c of shape (hidden_size,)"""
    weights, xs, state = problem(13, batch=())
    for given in (None, state):
        case = f"one sample of shape {shape(xs[0])}" + (" with a state" if given else "")
        judge(run(learner, weights, xs, given), weights, xs, given, case)


# --------------------------------------------------------------------- the learner's cell


def run(learner: Learner, weights, xs, state=None, sizes=SIZES, **options) -> dict:
    """The learner's cell over `xs`, its state carried; an error is explained by what the
    check gave it (no state, float64, a device)."""
    device, dtype = options.get("device", "cpu"), xs[0].dtype
    explain = hints(
        Hint(("NoneType", "state"), NO_STATE_ERROR, when=state is None),
        Hint(
            ("dtype", "scalar type"),
            DTYPE.format(dtype=dtype_name(dtype)),
            when=dtype != torch.float32,
        ),
        Hint(("in-place", "inplace"), IN_PLACE_ERROR),
        Hint(("device",), DEVICE.format(device=device), when=device != "cpu"),
        Hint(("cannot be multiplied",), PRODUCT_ERROR),
    )
    what = "Your LSTMCell" if tuple(sizes) == SIZES else f"Your LSTMCell{tuple(sizes)}"
    args = {"sizes": list(sizes), "weights": weights, "xs": xs, "state": state}
    return call(learner, "lstm_cell.steps", what, explain=explain, expected=PAIR, **args, **options)


def judge(reply, weights, xs, state, case: str, tol=None, sizes=SIZES) -> None:
    """Fail with the most specific message unless h and c at every step equal nn.LSTMCell's,
    and the call left its input and the state it was given as they were."""
    want, hint = truth(weights, sizes, xs, state), UNBATCHED if xs[0].dim() == 1 else ""
    got = conforming_series(reply, want, FORWARD, WRONG_SHAPE, WRONG_DTYPE, case=case, hint=hint)
    mistakes = variants(MISTAKES, partial(replay, weights, sizes, xs, state))
    tol = tol or tolerance()
    expect_series(got, want, *tol, mistakes, WRONG_VALUES, "Your forward", case=case)
    if reply.get("mutated"):
        fail(MUTATED.format(case=case))
    if reply.get("state_changed_at") is not None:
        fail(IN_PLACE.format(case=case, t=reply["state_changed_at"] + 1))


def cause(reply, weights, xs, state) -> str:
    """The message of the usual mistake that gives exactly the learner's h and c, or ""."""
    want = truth(weights, SIZES, xs, state)
    mistakes = variants(MISTAKES, partial(replay, weights, SIZES, xs, state))
    found = matching({"h": reply["h"], "c": reply["c"]}, mistakes, same_series(*EXACT), want)
    return found.message if found else ""


# --------------------------------------------------------------------- the truth and mistakes


def problem(seed: int, steps: int = 1, batch=(BATCH,), dtype=torch.float32, sizes=SIZES) -> tuple:
    """Weights (made from `seed`), inputs for `steps` steps and a state (from `seed` + 1)."""
    weights = make_weights(seed, dtype, sizes)
    torch.manual_seed(seed + 1)
    xs = [torch.randn(*batch, sizes[0], dtype=dtype) for _ in range(steps)]
    return weights, xs, [torch.randn(*batch, sizes[1], dtype=dtype) for _ in range(2)]


def make_weights(seed: int, dtype=torch.float32, sizes=SIZES) -> dict[str, torch.Tensor]:
    return seeded_weights(lambda: nn.LSTMCell(*sizes), seed, dtype)


def gates_held(weights: dict, input_gate: float, forget_gate: float) -> dict:
    """The weights with the gates reading only their biases (the candidate still reads x and
    h), and the input and forget gates held by bias_ih at the given values."""
    h = SIZES[1]
    rows = {"i": slice(0, h), "f": slice(h, 2 * h), "o": slice(3 * h, 4 * h)}
    for part in rows.values():
        for value in weights.values():
            value[part] = 0.0
    weights["bias_ih"][rows["i"]], weights["bias_ih"][rows["f"]] = input_gate, forget_gate
    return weights


def truth(weights, sizes, xs, state) -> dict[str, list]:
    """What nn.LSTMCell gives at each step: h and c, one tensor per step."""
    cell, found = loaded(nn.LSTMCell(*sizes), weights), {"h": [], "c": []}
    with torch.no_grad():
        for x in xs:
            state = cell(x) if state is None else cell(x, tuple(state))
            found["h"].append(state[0])
            found["c"].append(state[1])
    return found


def unrolled_lstm(weights, xs, state):
    """A one-layer nn.LSTM with the cell's weights over `xs`: every h, and the last c."""
    lstm = loaded(nn.LSTM(*SIZES), weights, suffix="_l0")
    with torch.no_grad():
        out, (_, c_n) = lstm(torch.stack(xs), (state[0][None], state[1][None]))  # out (T, B, H)
    return out, c_n[0]


def expected_gradients(weights, x, state, upstream) -> dict[str, torch.Tensor]:
    """nn.LSTMCell's gradients of sum(h * dh) + sum(c * dc) for one step."""
    cell, x, h0, c0 = loaded(nn.LSTMCell(*SIZES), weights), leaf(x), leaf(state[0]), leaf(state[1])
    leaves = {**dict(cell.named_parameters()), "x0": x, "h0": h0, "c0": c0}
    return gradients_of(cell(x, (h0, c0)), upstream, leaves)


def variant(
    weights,
    x,
    h,
    c,
    order="ifgo",
    gates=torch.sigmoid,
    candidate=torch.tanh,
    squash=torch.tanh,
    cell_from_h=False,
    bias_ih=True,
    bias_hh=True,
):
    """One step of a cell with one of the usual mistakes (the defaults are the right cell)."""
    z = x @ weights["weight_ih"].T + h @ weights["weight_hh"].T
    z = z + weights["bias_ih"] if bias_ih else z
    z = z + weights["bias_hh"] if bias_hh else z
    part = dict(zip(order, z.chunk(4, dim=-1), strict=True))
    i, f, o = gates(part["i"]), gates(part["f"]), gates(part["o"])
    g = candidate(part["g"])
    c = f * (h if cell_from_h else c) + i * g
    return o * squash(c) if squash else o * c, c


CHANGES = {  # the usual mistakes besides the gate order: the flags of `variant` that make each
    "activations_swapped": {"gates": torch.tanh, "candidate": torch.sigmoid},
    "sigmoid_candidate": {"candidate": torch.sigmoid},
    "tanh_gates": {"gates": torch.tanh},
    "no_tanh_on_cell": {"squash": None},
    "sigmoid_on_cell": {"squash": torch.sigmoid},
    "cell_from_h": {"cell_from_h": True},
    "no_bias_ih": {"bias_ih": False},
    "no_bias_hh": {"bias_hh": False},
}


def replay(weights, sizes, xs, state, flags: dict) -> dict[str, list]:
    """A mistake (`flags` of `variant`) unrolled over `xs`: h and c, one tensor per step."""
    batch = xs[0].shape[:-1]
    h, c = state if state is not None else (xs[0].new_zeros(*batch, sizes[1]),) * 2
    found: dict[str, list] = {"h": [], "c": []}
    for x in xs:
        h, c = variant(weights, x, h, c, **flags)
        found["h"].append(h)
        found["c"].append(c)
    return found


# --------------------------------------------------------------------- messages

SUBCLASS = "LSTMCell must subclass nn.Module."
PAIR = "it must return the pair (h, c), the new hidden state and the new cell state."
MISSING_PARAMETER = (
    "LSTMCell{sizes} has no parameter named {name} (its parameters: {names}). Create it with "
    "self.{name} = nn.Parameter(torch.empty(...)): a plain tensor attribute is not a parameter, "
    "so the optimizer would never see it."
)
PARAMETER_SHAPE = (
    "In LSTMCell{sizes}, {name} has shape {got}; expected {want}. The four gates are stacked "
    "along dimension 0 (4 * hidden_size rows), PyTorch's layout, so that x @ weight_ih.T gives "
    "(batch, 4 * hidden_size)."
)
EXTRA_PARAMETERS = (
    "LSTMCell{sizes} has parameters besides weight_ih, weight_hh, bias_ih and bias_hh: {names}. "
    "The cell has exactly these four; per-gate weights are slices of them (z.chunk(4, dim=1))."
)
NOT_OWN = (
    "Your {file} uses {what}{where}. This exercise is to build the gates yourself from "
    "weight_ih, weight_hh, bias_ih and bias_hh: nn.LSTM, nn.LSTMCell and torch's fused LSTM "
    "functions (torch.lstm_cell, torch._VF...) compute them for you, so they are not allowed "
    "here. Use matrix products, torch.sigmoid and torch.tanh. (This check is advice and worth "
    "no points; the other checks grade what your cell computes.)"
)
DTYPE = (
    "Your cell fails on {dtype} input with a dtype error: a tensor made with torch.zeros(batch, "
    "hidden_size) or torch.tensor(...) is float32 on the CPU whatever x is. Make new tensors, "
    "such as the zero states, with x.new_zeros(...) or "
    "torch.zeros(..., dtype=x.dtype, device=x.device)."
)
DEVICE = (
    "Your cell fails on {device} with a device error: a tensor made without device= is on the "
    "CPU. Make new tensors, such as the zero states, on x's device "
    "(x.new_zeros(...) or torch.zeros(..., device=x.device))."
)
NO_STATE_ERROR = (
    "With no state, cell(x) must start from zeros: give forward the default state=None and, "
    "when it is None, use h = c = x.new_zeros(batch, hidden_size)."
)
GATE_ORDER = (
    "Your h and c match the right formulas with the gates read in the order ({order}), as if "
    "you wrote `{unpack} = z.chunk(4, dim=1)`. PyTorch stacks the rows of weight_ih, weight_hh "
    "and both biases as input, forget, cell candidate, output: `i, f, g, o = z.chunk(4, dim=1)`."
)
CAUSES = {
    "activations_swapped": (
        "Your h and c match a cell whose gates use tanh and whose candidate uses a sigmoid: the "
        "activations are swapped. The gates i, f and o are fractions, torch.sigmoid; the "
        "candidate g is signed content, torch.tanh."
    ),
    "sigmoid_candidate": (
        "Your h and c match a cell whose candidate g uses a sigmoid. The candidate must be able "
        "to push the memory down as well as up: g = torch.tanh(...)."
    ),
    "tanh_gates": (
        "Your h and c match a cell whose gates use tanh. A gate is a fraction between 0 and 1: "
        "i, f and o use torch.sigmoid."
    ),
    "no_tanh_on_cell": (
        "Your h matches h = o * c, without a tanh on the cell state. The output is "
        "h = o * torch.tanh(c): the cell state can grow large, h stays in (-1, 1)."
    ),
    "sigmoid_on_cell": (
        "Your h matches h = o * sigmoid(c). The cell state is squashed with a tanh: "
        "h = o * torch.tanh(c)."
    ),
    "cell_from_h": (
        "Your c matches c = f * h_prev + i * g: the new cell state is computed from the previous "
        "HIDDEN state. The forget gate scales the previous CELL state: c = f * c_prev + i * g."
    ),
    "no_bias_ih": (
        "Your h and c match a cell without bias_ih: both biases are added, "
        "z = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh."
    ),
    "no_bias_hh": (
        "Your h and c match a cell without bias_hh: both biases are added, "
        "z = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh."
    ),
}
WRONG_VALUES = (
    "Your {which} for {case} has the right shape {shape} but differs from nn.LSTMCell's on the "
    "same weights (largest difference {diff:.3g}). It matches none of the usual mistakes; check "
    "the order i, f, g, o of the chunks, a sigmoid on the gates and a tanh on the candidate, "
    "c = f * c_prev + i * g and h = o * tanh(c)."
)
FORWARD = "Your forward's {which}"  # a returned value, in messages
WRONG_SHAPE = "Your {which} for {case} has shape {got}; expected {want}.{hint}"
UNBATCHED = (
    " For a sample without a batch dimension, add one (x.unsqueeze(0), and the same for a "
    "given state) and remove it from h and c at the end (squeeze(0))."
)
WRONG_DTYPE = "Your {which} for {case} has dtype {got}; for {want} input it must be {want}."
IN_PLACE = (
    "Your forward changed the state (h, c) it was given in place ({case}, step {t}): after the "
    "call, the caller's previous h or c holds new values. Compute new tensors, c = f * c + i * g, "
    "rather than c *= f or c.add_(...): the previous step's results must stay as they were, and "
    "autograd needs them for the backward pass."
)
IN_PLACE_ERROR = (
    "This error comes from changing a tensor in place (c *= f, c.add_(...)) that autograd "
    "still needs: compute new tensors instead, c = f * c + i * g."
)
PRODUCT_ERROR = (
    "A matrix product's inner sizes must be equal. x is (batch, input_size) and weight_ih is "
    "(4*hidden_size, input_size), so the pre-activations are x @ weight_ih.T + h @ weight_hh.T "
    "plus both biases, (batch, 4*hidden_size), as z = x W_ih^T + ... in the statement: "
    "weight_ih @ x (the order of W x on paper) and x @ weight_ih do not fit."
)
MUTATED = (
    "Your forward changed its input x in place for {case}; leave the caller's tensor as it was."
)
KEEPS = (
    "With the forget gate held open (its biases sum to +30, so f = 1) and the input gate closed "
    "(-30, so i = 0), the new cell state must be the old one: c = 1 * c_prev + 0 * g. Yours "
    "differs from c_prev by up to {diff:.3g}."
)
ERASES = (
    "With the forget gate closed (its biases sum to -30, so f = 0) and the input gate open "
    "(+30, so i = 1), the old cell state must be erased: c = 0 * c_prev + 1 * g, the same "
    "whatever c_prev was. Yours {how}."
)
UNROLLED = (
    "Unrolled over {steps} steps, carrying (h, c) from each call to the next, your cell's "
    "{which} at step {t} differs from a one-layer nn.LSTM on the same weights (largest "
    "difference {diff:.3g}), although the first step matches. Each call must use exactly the "
    "(h, c) it is given, and nothing else carried from earlier calls (no state kept on self)."
)
DEFAULT_STATE = (
    "Called without a state, cell(x), your cell gives a different {which} from a cell started "
    "at zeros (largest difference {diff:.3g}). With state=None, h and c start as zeros: "
    "x.new_zeros(batch, hidden_size), not torch.randn, torch.empty or ones."
)
NO_GRAD = (
    "Your h and c do not require a gradient: something in forward detached them from the "
    "parameters (.detach(), .data, torch.no_grad() or a trip through NumPy)."
)
WRONG_GRAD = (
    "The gradient with respect to {name} differs from nn.LSTMCell's (largest difference "
    "{diff:.3g}), though h and c match. Is part of the computation done outside autograd "
    "(.data, .detach(), in-place changes to the parameters)?"
)
MISSING_GRAD = "{name} received no gradient, though h and c depend on it: {why}"
SHOWN = {"x0": "x", "h0": "the state's h", "c0": "the state's c"}  # gradients' names
WHY_NO_GRAD = {  # by whether it is an input (True) or a parameter (False)
    True: "is it replaced by a new tensor, detached, or not used?",
    False: "is it used in forward?",
}

ORDERS = [order for order in map("".join, itertools.permutations("ifgo")) if order != "ifgo"]
MISTAKES = [  # (name, flags of `variant`, message), tried in this order: the first match is said
    *(
        (f"order_{o}", {"order": o}, GATE_ORDER.format(order=", ".join(o), unpack=", ".join(o)))
        for o in ORDERS
    ),
    *((name, flags, CAUSES[name]) for name, flags in CHANGES.items()),
]
