"""Checks for exercise 1: `LSTMNetwork`, a stacked LSTM with a linear head.

Each forward check gives the learner's network the reference's weights (mapped by the structure
of nn.LSTM and nn.Linear, never by attribute names) and compares outputs. When they differ, the
reference's own layers replay the usual mistakes (time-major reading, first step, pooling, the
bottom layer, an activation on the head) to name the cause.
"""

from __future__ import annotations

from types import ModuleType

import torch
import torch.nn.functional as F

from grader.checking import call, defines, depends, fail, points, tensor
from grader.checking.values import close, max_difference, plural, shape, tolerance
from grader.learner import Learner
from grader.probes.common import canonical_parameters

EXERCISE = "01_lstm_network"
SIZES = (10, 20, 2, 1)  # the seed's network: input 10, hidden 20, 2 layers, 1 output
BATCH, SEQ = 4, 7  # batch != seq_len, so that confusing the two shows


test_imports = defines("LSTMNetwork")


@points(2)
@depends("test_imports")
def test_structure(learner: Learner) -> None:
    """LSTMNetwork is one stacked nn.LSTM and one nn.Linear head of the right sizes"""
    for sizes in (SIZES, (3, 5, 3, 2), (6, 4, 1, 3)):
        what = f"LSTMNetwork{sizes}"
        reply = call(learner, "lstm_network.build", what, expected=SUBCLASS, sizes=list(sizes))
        if problem := structure_problem(reply, sizes):
            fail(problem)


@points(2)
@depends("test_structure")
def test_batch_output(on_device: Learner, reference: ModuleType) -> None:
    """Output for a batch of 4 sequences of length 7 equals the reference's"""
    net = reference_net(reference, SIZES)
    torch.manual_seed(1)
    x = torch.randn(BATCH, SEQ, SIZES[0])
    reply = run(on_device, net, SIZES, x, device=on_device.device)
    judge(reply, net, x, f"a batch of {BATCH} sequences of length {SEQ}", on_device.device)


@points(2)
@depends("test_structure")
def test_other_sizes(learner: Learner, reference: ModuleType) -> None:
    """Batch of one, one and three layers, several outputs, batch equal to length"""
    cases = [
        ((10, 20, 2, 1), (1, 5)),  # one sequence in a batch
        ((3, 8, 1, 2), (3, 6)),  # one layer, two outputs
        ((5, 6, 3, 4), (2, 9)),  # three layers, four outputs
        ((4, 7, 2, 3), (5, 5)),  # batch == seq_len: the silent case of the batch_first bug
        ((4, 7, 2, 1), (3, 1)),  # a single time step
    ]
    for k, (sizes, (b, t)) in enumerate(cases):
        net = reference_net(reference, sizes, seed=10 + k)
        torch.manual_seed(20 + k)
        x = torch.randn(b, t, sizes[0])
        case = f"LSTMNetwork{sizes} on a batch of {b} sequences of length {t}"
        judge(run(learner, net, sizes, x), net, x, case)


@points(1)
@depends("test_structure")
def test_unbatched(learner: Learner, reference: ModuleType) -> None:
    """One unbatched sequence (seq_len, input_size) gives (output_size,)"""
    sizes = (10, 20, 2, 3)
    net = reference_net(reference, sizes, seed=3)
    torch.manual_seed(4)
    x = torch.randn(SEQ, sizes[0])
    judge(run(learner, net, sizes, x), net, x, f"one sequence of shape {shape(x)}")


@points(1)
@depends("test_structure")
def test_float64(learner: Learner, reference: ModuleType) -> None:
    """float64 input gives a float64 output (states take x's dtype)"""
    net = reference_net(reference, SIZES, seed=5).double()
    torch.manual_seed(6)
    x = torch.randn(BATCH, SEQ, SIZES[0], dtype=torch.float64)
    judge(run(learner, net, SIZES, x, dtype="float64"), net, x, "float64 input")


@points(1)
@depends("test_structure")
def test_deterministic(learner: Learner, reference: ModuleType) -> None:
    """The same input gives the same output every time"""
    net = reference_net(reference, SIZES, seed=7)
    x = torch.randn(BATCH, SEQ, SIZES[0])
    ys = [tensor(y, "Your forward") for y in run(learner, net, SIZES, x, repeat=3)["y"]]
    if not all(y.shape == ys[0].shape and torch.equal(y, ys[0]) for y in ys):
        fail(NOT_DETERMINISTIC)


@points(1)
@depends("test_structure")
def test_gradients(on_device: Learner, reference: ModuleType) -> None:
    """Gradients reach every parameter and equal the reference's"""
    net = reference_net(reference, SIZES, seed=8)
    torch.manual_seed(9)
    x = torch.randn(BATCH, SEQ, SIZES[0])
    reply = run(on_device, net, SIZES, x, device=on_device.device, grads=True)
    if "grads" not in reply:
        fail(DETACHED)
    net.zero_grad()
    net(x).sum().backward()
    params = canonical_parameters(net)
    for k, (got, p) in enumerate(zip(reply["grads"], params, strict=True)):
        if got is None or not bool(got.abs().sum() > 0):
            fail(NO_GRADIENT.format(k=k, shape=shape(p)))
        if type(got) is not torch.Tensor or not close(got, p.grad, *tolerance(on_device.device)):
            fail(WRONG_GRADIENT.format(k=k, shape=shape(p)))


# --------------------------------------------------------------------- helpers


def reference_net(reference: ModuleType, sizes, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return reference.LSTMNetwork(*sizes)


def run(learner: Learner, net, sizes, x: torch.Tensor, **options) -> dict:
    """The learner's forward on `x` with `net`'s weights; fail with a cause on any error."""
    weights = [p.detach().clone() for p in canonical_parameters(net)]
    return call(
        learner,
        "lstm_network.forward",
        "Your forward",
        explain=lambda error, _: error_hint(error, x),
        sizes=list(sizes),
        weights=weights,
        x=x,
        **options,
    )


def error_hint(error: dict, x: torch.Tensor) -> str:
    """What an error of forward on `x` most likely means, or ""."""
    text = error.get("message", "")
    if x.dim() == 3 and "Expected hidden" in text and f"{x.size(1)}" in text:
        b, t, i = x.shape
        return SEED_STATES.format(
            b=b, t=t, i=i, sequences=plural(b, "sequence"), steps=plural(b, "time step")
        )
    if x.dim() == 2 and ("2-D" in text or "unbatched" in text.lower()):
        return UNBATCHED_STATES.format(x=shape(x))
    if (x.dtype != torch.float32 and "dtype" in text.lower()) or "scalar type" in text:
        return DTYPE.format(dtype=str(x.dtype).replace("torch.", ""))
    return ""


def mistakes(net, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """What the usual mistakes compute, replayed with the reference's own layers."""
    lstm, fc = net.lstm, net.fc
    out, (h_n, _) = lstm(x)  # (batch, seq, hidden); h_n (layers, batch, hidden)
    time_major = torch.nn.LSTM(lstm.input_size, lstm.hidden_size, lstm.num_layers).to(x.dtype)
    time_major.load_state_dict(lstm.state_dict())
    out_tm, _ = time_major(x)  # x read as (seq, batch, input)
    right = fc(out[:, -1])
    return {
        "time_major": fc(out_tm[:, -1]),
        "time_major_rows": fc(out_tm[-1]),
        "first_step": fc(out[:, 0]),
        "mean": fc(out.mean(1)),
        "max": fc(out.max(1).values),
        "sum": fc(out.sum(1)),
        "bottom_layer": fc(h_n[0]),
        "sigmoid": torch.sigmoid(right),
        "tanh": torch.tanh(right),
        "relu": F.relu(right),
    }


def judge(reply: dict, net, x: torch.Tensor, case: str, device: str = "cpu") -> None:
    """Fail with the most specific message unless the learner's output equals the reference's."""
    y = tensor(reply["y"][0], "Your forward")
    atol, rtol = tolerance(device, x.dtype)
    with torch.no_grad():
        expected = net(x)
        replayed = mistakes(net, x) if x.dim() == 3 else {}
    if y.shape != expected.shape:
        fail(shape_message(y, expected, x, replayed))
    if y.dtype != expected.dtype:
        fail(WRONG_DTYPE.format(case=case, got=y.dtype, x=x.dtype, want=expected.dtype))
    if not close(y, expected, atol, rtol):
        for cause, candidate in replayed.items():
            if cause in CAUSES and candidate.shape == y.shape and close(y, candidate, atol, rtol):
                if cause == "bottom_layer" and net.lstm.num_layers == 1:
                    continue
                fail(CAUSES[cause].format(b=x.size(0), t=x.size(1)))
        fail(WRONG_VALUES.format(case=case, shape=shape(y), diff=max_difference(y, expected)))
    if reply.get("mutated"):
        fail(MUTATED.format(case=case))


def shape_message(y, expected, x, replayed) -> str:
    got = shape(y)
    if x.dim() == 2:
        return UNBATCHED_SHAPE.format(x=shape(x), got=got, want=shape(expected))
    b, t = x.size(0), x.size(1)
    o = expected.size(-1)
    if "time_major_rows" in replayed and y.shape == replayed["time_major_rows"].shape and t != b:
        return TIME_MAJOR_SHAPE.format(b=b, t=t, got=got, o=o)
    base = BATCH_SHAPE.format(b=b, t=t, got=got, o=o)
    if y.dim() == 3 and y.shape[:2] == (b, t):
        return base + EVERY_STEP
    if y.dim() == 2 and y.shape[0] == b and y.shape[1] != o:
        return base + NO_HEAD_APPLIED.format(n=y.shape[1])
    if y.dim() == 3 and y.shape[1] == b:
        return base + ALL_LAYERS
    return base


def structure_problem(reply: dict, sizes) -> str | None:
    """What is wrong with how LSTMNetwork(*sizes) is built, or None."""
    i, h, layers, _ = sizes
    lstms, linears = reply["lstms"], reply["linears"]
    if not lstms:
        return NO_LSTM.format(sizes=sizes)
    first = lstms[0]
    if (first["input_size"], first["hidden_size"]) != (i, h):
        return LSTM_SIZES.format(
            sizes=sizes, i=first["input_size"], h=first["hidden_size"], want_i=i, want_h=h
        )
    if what := next(filter(None, map(lstm_kind, lstms)), None):
        return LSTM_KIND.format(sizes=sizes, what=what)
    if (total := sum(m["num_layers"] for m in lstms)) != layers:
        return LAYERS.format(sizes=sizes, want=layers, got=total)
    return head_problem(linears, sizes) or (
        EXTRA.format(sizes=sizes, shapes=reply["other_parameters"])
        if reply["other_parameters"]
        else None
    )


def lstm_kind(m: dict) -> str | None:
    """What makes an nn.LSTM other than a plain one, or None."""
    if m["bidirectional"]:
        return "bidirectional"
    if m["proj_size"]:
        return "projected (proj_size)"
    return None if m["bias"] else "built without biases (bias=False)"


def head_problem(linears: list[dict], sizes) -> str | None:
    _, h, _, o = sizes
    if not linears:
        return NO_HEAD.format(sizes=sizes, h=h, o=o)
    if len(linears) > 1:
        return HEADS.format(sizes=sizes, n=len(linears))
    head = linears[0]
    if (head["in_features"], head["out_features"], head["bias"]) != (h, o, True):
        return HEAD_SIZES.format(
            sizes=sizes, fin=head["in_features"], fout=head["out_features"], h=h, o=o
        )
    return None


# --------------------------------------------------------------------- messages

SUBCLASS = "LSTMNetwork must subclass nn.Module."
NO_LSTM = "LSTMNetwork{sizes} holds no nn.LSTM; the network runs its sequence through one."
LAYERS = (
    "LSTMNetwork{sizes} should stack {want} LSTM layers, but its LSTM has {got}. "
    "Pass num_layers to nn.LSTM(input_size, hidden_size, num_layers, ...)."
)
LSTM_SIZES = (
    "LSTMNetwork{sizes} built nn.LSTM(input_size={i}, hidden_size={h}); expected "
    "input_size={want_i}, hidden_size={want_h}."
)
LSTM_KIND = "The LSTM of LSTMNetwork{sizes} is {what}; this exercise uses a plain one."
NO_HEAD = (
    "LSTMNetwork{sizes} has no nn.Linear head: the top layer's hidden state (size {h}) must be "
    "mapped to output_size={o} by nn.Linear(hidden_size, output_size)."
)
HEADS = "LSTMNetwork{sizes} holds {n} nn.Linear layers; this network has exactly one, the head."
HEAD_SIZES = (
    "The head of LSTMNetwork{sizes} is nn.Linear({fin}, {fout}); expected nn.Linear({h}, {o})."
)
EXTRA = "LSTMNetwork{sizes} has parameters besides the LSTM and the head: shapes {shapes}."
SEED_STATES = (
    "For a batch of {sequences} of length {t}, nn.LSTM expected initial states for a batch "
    "of {t}: without batch_first=True it reads x of shape ({b}, {t}, {i}) as {steps} of "
    "a batch of {t} sequences, so states built with x.size(0) disagree with it. Build the "
    "LSTM with nn.LSTM(..., batch_first=True); h0 and c0 stay (num_layers, batch, hidden_size)."
)
TIME_MAJOR = (
    "Your output matches what nn.LSTM computes when it reads dimension 0 as time. For a batch "
    "of {b} sequences of length {t}, an LSTM without batch_first=True sees {b} time steps of a "
    "batch of {t}, so out[:, -1, :] is the last sequence of the batch, not the last time step "
    "of each sequence. Build the LSTM with batch_first=True (or transpose x yourself)."
)
TIME_MAJOR_SHAPE = (
    "Your output for a batch of {b} sequences of length {t} has shape {got}, one row per time "
    "step: without batch_first=True, nn.LSTM reads dimension 0 of x as time, and its last "
    "output covers the {t} 'sequences' it thinks it saw. Build the LSTM with batch_first=True; "
    "the result must be ({b}, {o})."
)
UNBATCHED_STATES = (
    "Your forward fails on one unbatched sequence of shape {x}: 3-D initial states do not go "
    "with 2-D input. Either add a batch dimension (x.unsqueeze(0)) and remove it from the "
    "result, or make no states at all and let nn.LSTM use zeros."
)
DTYPE = (
    "Your forward fails on {dtype} input: the initial states must have x's dtype and device. "
    "Make them with x.new_zeros(...) or torch.zeros(..., dtype=x.dtype, device=x.device)."
)
CAUSES = {
    "time_major": TIME_MAJOR,
    "first_step": "Your output matches the head applied to the FIRST time step (out[:, 0]); the head reads the last one, out[:, -1, :].",
    "mean": "Your output matches the head applied to the mean over time; the head reads only the last time step, out[:, -1, :].",
    "max": "Your output matches the head applied to the maximum over time; the head reads only the last time step, out[:, -1, :].",
    "sum": "Your output matches the head applied to the sum over time; the head reads only the last time step, out[:, -1, :].",
    "bottom_layer": "Your output matches the head applied to h_n[0], the BOTTOM layer's final state. h_n is (num_layers, batch, hidden): the top layer is h_n[-1].",
    "sigmoid": "Your output matches the correct one passed through a sigmoid: the head is a plain nn.Linear with no activation after it (a regression output can be any real number).",
    "tanh": "Your output matches the correct one passed through a tanh: the head is a plain nn.Linear with no activation after it.",
    "relu": "Your output matches the correct one passed through a ReLU: the head is a plain nn.Linear with no activation after it.",
}
WRONG_VALUES = (
    "Your output for {case} has the right shape {shape} but different values (largest "
    "difference {diff:.3g}) from the reference with the same weights. It matches none of the "
    "usual mistakes; check the initial states (zeros), which layer and time step the head reads, "
    "and that nothing is applied after the head."
)
WRONG_DTYPE = "Your output for {case} has dtype {got}; for {x} input it must be {want}."
MUTATED = (
    "Your forward changed its input x in place for {case}; leave the caller's tensor as it was."
)
UNBATCHED_SHAPE = (
    "For one unbatched sequence of shape {x} your output has shape {got}; expected {want}: "
    "drop the batch dimension you added."
)
BATCH_SHAPE = (
    "Your output for a batch of {b} sequences of length {t} has shape {got}; expected ({b}, {o}), "
    "one row per sequence."
)
EVERY_STEP = " You kept every time step: apply the head to the last one only, out[:, -1, :]."
NO_HEAD_APPLIED = " {n} columns look like the hidden state itself: apply the nn.Linear head."
ALL_LAYERS = " The head was applied to all of h_n (every layer); use the top layer, h_n[-1]."
NOT_DETERMINISTIC = (
    "Three calls of your forward on the same input gave different outputs. The initial "
    "states must be zeros (torch.zeros / x.new_zeros), not torch.randn or torch.empty, "
    "and nothing random may happen in forward."
)
DETACHED = (
    "Your output does not require a gradient: something in forward detached it from the "
    "parameters (.detach(), torch.no_grad() or .data)."
)
NO_GRADIENT = (
    "Parameter {k} (shape {shape}) received no gradient: it does not take part in the output."
)
WRONG_GRADIENT = "The gradient of parameter {k} (shape {shape}) differs from the reference's."
