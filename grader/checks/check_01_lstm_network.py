"""Checks for exercise 1: `LSTMNetwork`, a stacked LSTM with a linear head.

Each forward check gives the learner's network the reference's weights (mapped by the structure
of nn.LSTM and nn.Linear, never by attribute names) and compares outputs. The runner also
reports what the learner's network did: how each LSTM was built (batch_first) and what it was
given, and the tensor the head was given. When the output differs, the usual mistakes are
replayed with the reference's own layers, only those the learner's code can have made (a
time-major reading only for an LSTM that read x time-major), to name the cause. A structure
alone earns nothing: the points are for what the network computes.
"""

from __future__ import annotations

import re
from types import ModuleType

import torch
import torch.nn.functional as F

from grader.checking import call, defines, depends, fail, messages, points, tensor
from grader.checking.explainers import Comparison, explain
from grader.checking.messages import dtype_name
from grader.checking.values import close, dims, max_difference, plural, shape, tolerance
from grader.confined.probes.common import canonical_parameters
from grader.learner import Learner

EXERCISE = "01_lstm_network"
SIZES = (10, 20, 2, 1)  # the seed's network: input 10, hidden 20, 2 layers, 1 output
BATCH, SEQ = 4, 7  # batch != seq_len, so that confusing the two shows


test_imports = defines("LSTMNetwork")


@points(0)
@depends("test_imports")
def test_structure(learner: Learner) -> None:
    """LSTMNetwork is one stacked nn.LSTM and one nn.Linear head of the right sizes"""
    for sizes in (SIZES, (3, 5, 3, 2), (6, 4, 1, 3)):
        if problem := structure_problem(built(learner, sizes), sizes):
            fail(problem)


@points(3)
@depends("test_structure")
def test_batch_output(on_device: Learner, reference: ModuleType) -> None:
    """Output for a batch of 4 sequences of length 7 equals the reference's"""
    net = reference_net(reference, SIZES)
    torch.manual_seed(1)
    x = torch.randn(BATCH, SEQ, SIZES[0])
    reply = run(on_device, net, SIZES, x, device=on_device.device, repeat=2)
    judge(reply, net, x, f"a batch of {BATCH} sequences of length {SEQ}", on_device.device)


@points(3)
@depends("test_batch_output")
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
@depends("test_batch_output")
def test_unbatched(learner: Learner, reference: ModuleType) -> None:
    """One unbatched sequence (seq_len, input_size) gives (output_size,)"""
    sizes = (10, 20, 2, 3)
    net = reference_net(reference, sizes, seed=3)
    torch.manual_seed(4)
    x = torch.randn(SEQ, sizes[0])
    judge(run(learner, net, sizes, x), net, x, f"one sequence of shape {shape(x)}")


@points(1)
@depends("test_batch_output")
def test_float64(learner: Learner, reference: ModuleType) -> None:
    """float64 input gives a float64 output (states take x's dtype)"""
    net = reference_net(reference, SIZES, seed=5).double()
    torch.manual_seed(6)
    x = torch.randn(BATCH, SEQ, SIZES[0], dtype=torch.float64)
    judge(run(learner, net, SIZES, x, dtype="float64"), net, x, "float64 input")


@points(1)
@depends("test_batch_output")
def test_deterministic(learner: Learner, reference: ModuleType) -> None:
    """The same input gives the same output every time"""
    net = reference_net(reference, SIZES, seed=7)
    x = torch.randn(BATCH, SEQ, SIZES[0])
    reply = run(learner, net, SIZES, x, repeat=3)
    ys = [tensor(y, "Your forward") for y in reply["y"]]
    if not all(y.shape == ys[0].shape and torch.equal(y, ys[0]) for y in ys):
        fail(not_deterministic(reply))


@points(1)
@depends("test_batch_output")
def test_gradients(on_device: Learner, reference: ModuleType) -> None:
    """Gradients reach every parameter and equal the reference's"""
    net = reference_net(reference, SIZES, seed=8)
    torch.manual_seed(9)
    x = torch.randn(BATCH, SEQ, SIZES[0])
    reply = run(on_device, net, SIZES, x, device=on_device.device, grads=True)
    if "grads" not in reply:
        fail(messages.NO_GRADIENT.format(name="the parameters", what="your forward"))
    net.zero_grad()
    net(x).sum().backward()
    params = canonical_parameters(net)
    for got, name, p in zip(reply["grads"], reply["names"], params, strict=True):
        facts = {"name": f"Your parameter {name}", "shape": shape(p), "result": OUTPUT_RIGHT}
        if got is None or not bool(got.abs().sum() > 0):
            fail(messages.PARAMETER_NO_GRADIENT.format(**facts))
        if not close(got, p.grad, *tolerance(on_device.device)):
            diff = max_difference(got, p.grad)
            fail(messages.PARAMETER_WRONG_GRADIENT.format(diff=diff, **facts))


# --------------------------------------------------------------------- helpers


def reference_net(reference: ModuleType, sizes, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return reference.LSTMNetwork(*sizes)


def built(learner: Learner, sizes) -> dict:
    """How the learner's LSTMNetwork(*sizes) is made (see describe_structure)."""
    what = f"LSTMNetwork{sizes}"
    expected = messages.NOT_A_MODULE.format(name="LSTMNetwork")
    return call(learner, "lstm_network.build", what, expected=expected, sizes=list(sizes))


def run(learner: Learner, net, sizes, x: torch.Tensor, **options) -> dict:
    """The learner's forward on `x` with `net`'s weights; fail with a cause on any error."""
    weights = [p.detach().clone() for p in canonical_parameters(net)]
    return call(
        learner,
        "lstm_network.forward",
        "Your forward",
        explain=lambda error, reply: error_hint(error, reply, x),
        sizes=list(sizes),
        weights=weights,
        x=x,
        **options,
    )


def reading(reply: dict, x: torch.Tensor) -> str | None:
    """How the learner's first LSTM read x, from what the runner saw: "batch_first" (time is
    dimension 1, as asked), "time_major" (time is dimension 0), or None if it cannot tell."""
    first = first_lstm(reply)
    given, batch_first = first.get("input"), first.get("batch_first")
    if x.dim() != 3 or given is None or x.size(0) == x.size(1):
        return None
    b, t, i = x.shape
    if tuple(given) == (b, t, i):
        return "batch_first" if batch_first else "time_major"
    if tuple(given) == (t, b, i):
        return "time_major" if batch_first else "batch_first"
    return None


def error_hint(error: dict, reply: dict, x: torch.Tensor) -> str:
    """What an error of forward on `x` means, from what the runner saw the learner's first
    LSTM given (its input and states, their shapes and dtypes) and torch's message; or ""."""
    text, first = error.get("message", ""), first_lstm(reply)
    given, states = first.get("input"), first.get("states") or []
    time_major = first.get("batch_first") is False and given == list(x.shape)
    if x.dim() == 3 and "Expected hidden" in text and time_major and states:
        b, t, i = x.shape
        if all(s is not None and len(s) == 3 and s[1] == b for s in states):
            return SEED_STATES.format(
                b=b, t=t, i=i, sequences=plural(b, "sequence"), steps=plural(b, "time step")
            )
    if x.dim() == 2 and given == list(x.shape) and any(s and len(s) == 3 for s in states):
        return UNBATCHED_STATES.format(x=shape(x))
    code = error.get("code", "").replace(" ", "")
    if x.dim() == 2 and "[:," in code and "too many indices for tensor of dimension 2" in text:
        return UNBATCHED_INDEX.format(x=shape(x), t=x.size(0))
    dtype = dtype_name(x.dtype)
    other = any(d != dtype for d in first.get("state_dtypes") or [])
    if first.get("dtype") == dtype and other and re.search(r"dtype|scalar type", text, re.I):
        return DTYPE_ERROR.format(dtype=dtype)
    return ""


def first_lstm(reply: dict) -> dict:
    """What the runner saw the learner's first nn.LSTM given, checked field by field (the
    runner's data); {} when it saw nothing well formed."""
    seen = reply.get("seen")
    calls = seen.get("lstm") if type(seen) is dict else None
    found = calls[0] if type(calls) is list and calls and type(calls[0]) is dict else {}
    checked = {
        "input": found.get("input") if sizes(found.get("input")) else None,
        "dtype": found.get("dtype") if type(found.get("dtype")) is str else None,
        "batch_first": found.get("batch_first") if type(found.get("batch_first")) is bool else None,
    }
    states, dtypes = found.get("states"), found.get("state_dtypes")
    if type(states) is list and all(s is None or sizes(s) for s in states):
        checked["states"] = states
    if type(dtypes) is list and all(type(d) in (str, type(None)) for d in dtypes):
        checked["state_dtypes"] = dtypes
    return checked


def sizes(value) -> bool:
    """A shape as the runner sends it: a short list of ints."""
    return type(value) is list and len(value) <= 8 and all(type(n) is int for n in value)


def mistakes(net, x: torch.Tensor, how: str | None) -> dict[str, torch.Tensor]:
    """What the usual mistakes compute, replayed with the reference's own layers: only those
    that go with how the learner's LSTM read x (`how`, see reading()). Those of SHAPE_CAUSES
    give an output of another shape."""
    lstm, fc = net.lstm, net.fc
    if how == "time_major":
        time_major = torch.nn.LSTM(lstm.input_size, lstm.hidden_size, lstm.num_layers)
        time_major.to(x.dtype).load_state_dict(lstm.state_dict())
        out_tm, (h_tm, _) = time_major(x)  # x read as (seq, batch, input)
        return {
            "time_major": fc(out_tm[:, -1]),
            "time_major_last_row": fc(out_tm[-1]),  # (seq, output): one row per time step
            "time_major_every_step": fc(out_tm),
            "time_major_all_layers": fc(h_tm),
        }
    out, (h_n, _) = lstm(x)  # (batch, seq, hidden); h_n (layers, batch, hidden)
    right = fc(out[:, -1])
    found = {
        "last_sequence": fc(out[-1]),  # (seq, output): every step of the last sequence
        "every_step": fc(out),
        "all_layers": fc(h_n),
        "first_step": fc(out[:, 0]),
        "mean": fc(out.mean(1)),
        "max": fc(out.max(1).values),
        "sum": fc(out.sum(1)),
        "bottom_layer": fc(h_n[0]),
        "sigmoid": torch.sigmoid(right),
        "tanh": torch.tanh(right),
        "relu": F.relu(right),
    }
    if lstm.num_layers == 1:
        del found["bottom_layer"]  # the same as the right answer
    return found


def head_input(net, x: torch.Tensor) -> torch.Tensor:
    """What the head must be given: the top layer's output at the last time step."""
    out, _ = net.lstm(x)
    return out[..., -1, :]


def judge(reply: dict, net, x: torch.Tensor, case: str, device: str = "cpu") -> None:
    """Fail with the most specific message unless the learner's output equals the reference's:
    a mistake is named only when its replay gives the learner's output."""
    y = tensor(reply["y"][0], "Your forward")
    atol, rtol = tolerance(device, x.dtype)
    how = reading(reply, x)
    with torch.no_grad():
        expected = net(x)
        replayed = mistakes(net, x, how) if x.dim() == 3 else {}
        wanted = head_input(net, x)
    if y.shape != expected.shape:
        if cause := matching(y, replayed, (atol, rtol)):
            fail(cause_message(cause, y, expected, x, reply))
        fail(shape_message(y, expected, x, how, reply))
    if y.dtype != expected.dtype:
        got = f"a {dtype_name(y.dtype)} output"
        fail(messages.DTYPE.format(what="Your forward", got=got, want=dtype_name(x.dtype)))
    if not close(y, expected, atol, rtol):
        same_shape = {c: got for c, got in replayed.items() if c in CAUSES}
        if cause := matching(y, same_shape, (atol, rtol)):
            fail(CAUSES[cause].format(b=x.size(0), t=x.size(1)))
        if any(
            type(other) is not torch.Tensor or not torch.equal(other, y) for other in reply["y"]
        ):
            fail(not_deterministic(reply))
        fail(values_message(y, expected, case, reply["seen"]["head"], wanted, (atol, rtol)))
    if reply.get("mutated"):
        fail(messages.INPUT_CHANGED.format(what="Your forward", name="x"))


def matching(y: torch.Tensor, replayed: dict[str, torch.Tensor], tol) -> str | None:
    """The replayed mistake whose output is the learner's, if one is."""
    found = (c for c, got in replayed.items() if got.shape == y.shape and close(y, got, *tol))
    return next(found, None)


def cause_message(cause: str, y, expected, x: torch.Tensor, reply: dict) -> str:
    """The message of a replayed mistake whose output has another shape than the right one."""
    b, t, o = x.size(0), x.size(1), expected.size(-1)
    facts = {"b": b, "t": t, "got": shape(y), "o": o, "head": head_shape(reply)}
    if cause in SHAPE_CAUSES:
        return SHAPE_CAUSES[cause].format(**facts)
    base = BATCH_SHAPE.format(**facts)
    also = TIME_MAJOR_TOO if cause.startswith("time_major") else ""
    return base + (EVERY_STEP if cause.endswith("every_step") else ALL_LAYERS) + also


def not_deterministic(reply: dict) -> str:
    """Why three calls on one input differ: dropout in the model, or something random."""
    p = reply.get("built", {}).get("dropout")
    return DROPOUT.format(p=p) if type(p) is float and p > 0 else NOT_DETERMINISTIC


def values_message(y, expected, case: str, given, wanted: torch.Tensor, tol) -> str:
    """The message for an output of the right shape that matches no usual mistake, saying
    what the head was given."""
    diff = max_difference(y, expected)
    if type(given) is torch.Tensor and close(given, wanted, *tol):
        return HEAD_GOT_RIGHT.format(case=case, diff=diff)
    got = head_shape({"seen": {"head": given}})
    if type(given) is torch.Tensor and given.shape == wanted.shape:
        activation = next(
            (name for name, f in ACTIVATIONS.items() if close(given, f(wanted), *tol)), None
        )
        if activation:
            return HEAD_INPUT_ACTIVATED.format(case=case, f=activation)
    wrong = WRONG_VALUES.format(case=case, shape=shape(y), diff=diff, head=got, want=shape(wanted))
    relation = explain(Comparison(y, expected, *tol, "Your output", time_dim=None))
    return f"{wrong} {relation}".strip()


def shape_message(y, expected, x, how: str | None, reply: dict) -> str:
    """The message for an output of a wrong shape that no replayed mistake gives: the shapes,
    and what the runner saw (the head never called, an LSTM reading dimension 0 as time)."""
    got = shape(y)
    if x.dim() == 2:
        added = tuple(y.shape) == (1, *expected.shape)
        return UNBATCHED_SHAPE.format(x=shape(x), got=got, want=shape(expected)) + (
            UNBATCHED_ADDED if added else ""
        )
    b, t = x.size(0), x.size(1)
    base = BATCH_SHAPE.format(b=b, t=t, got=got, o=expected.size(-1))
    also = TIME_MAJOR_TOO if how == "time_major" else ""
    if reply["seen"]["head"] is None:
        return base + HEAD_NOT_CALLED + also
    return base + HEAD_GIVEN.format(head=head_shape(reply)) + also


def head_shape(reply: dict) -> str:
    """The shape of what the learner's head was given, for a message."""
    given = reply["seen"]["head"]
    return shape(given) if type(given) is torch.Tensor else dims(given) if given else "nothing"


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
EXTRA = messages.EXTRA_PARAMETERS.format(
    what="LSTMNetwork{sizes}", expected="the LSTM and the head", shapes="{shapes}"
)
SEED_STATES = (
    "For a batch of {sequences} of length {t}, nn.LSTM expected initial states for a batch "
    "of {t}: without batch_first=True it reads x of shape ({b}, {t}, {i}) as {steps} of "
    "a batch of {t} sequences, so states built with x.size(0) disagree with it. Build the "
    "LSTM with nn.LSTM(..., batch_first=True); h0 and c0 stay (num_layers, batch, hidden_size)."
)
TIME_MAJOR = (
    "Your output matches what nn.LSTM computes when it reads dimension 0 as time. For a batch "
    "of {b} sequences of length {t}, an LSTM without batch_first=True sees {b} time steps of a "
    "batch of {t}, so row b of out[:, -1, :] has read the last steps of sequences 0 to b, one "
    "after another, not the last time step of sequence b. Build the LSTM with "
    "batch_first=True (or transpose x yourself)."
)
TIME_MAJOR_SHAPE = (
    "Your output for a batch of {b} sequences of length {t} has shape {got}, one row per time "
    "step: without batch_first=True, nn.LSTM reads dimension 0 of x as time, and its last "
    "output covers the {t} 'sequences' it thinks it saw. Build the LSTM with batch_first=True; "
    "the result must be ({b}, {o})."
)
UNBATCHED_INDEX = (
    "For one unbatched sequence of shape {x}, nn.LSTM returns out without a batch dimension, "
    "({t}, hidden_size), so an index written for (batch, seq, hidden) such as out[:, -1, :] "
    "reads the wrong dimensions of it. out[..., -1, :] reads the last time step with or without "
    "a batch dimension (or add one with x.unsqueeze(0) and remove it from the result)."
)
LAST_SEQUENCE = (
    "Your output for a batch of {b} sequences of length {t} has shape {got}; expected ({b}, {o}). "
    "Your LSTM is built with batch_first=True, so out is (batch, seq, hidden), and your head "
    "was given a tensor of shape {head}: out[-1], the LAST SEQUENCE of the batch at every time "
    "step. The head reads the last time step of every sequence: out[:, -1, :]."
)
TIME_MAJOR_TOO = " Your LSTM also reads dimension 0 of x as time: build it with batch_first=True."
HEAD_GIVEN = " Your head was given a tensor of shape {head}."
SHAPE_CAUSES = {  # replayed mistakes whose output has another shape, with their own message
    "time_major_last_row": TIME_MAJOR_SHAPE,
    "last_sequence": LAST_SEQUENCE,
}
HEAD_NOT_CALLED = (
    " Your forward never called the nn.Linear head: return self.head(...) of the last step."
)
UNBATCHED_STATES = (
    "Your forward fails on one unbatched sequence of shape {x}: 3-D initial states do not go "
    "with 2-D input. Either add a batch dimension (x.unsqueeze(0)) and remove it from the "
    "result, or make no states at all and let nn.LSTM use zeros."
)
DTYPE_ERROR = (
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
    "Your output for {case} has the right shape {shape} but different values from the "
    "reference with the same weights (largest difference {diff:.3g}), "
    + messages.NONE_MATCH
    + " Your head was given a tensor of shape {head}; it takes the top layer's output at the last "
    "time step, {want}, from an LSTM started at zero states."
)
ACTIVATIONS = {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
HEAD_INPUT_ACTIVATED = (
    "Your head was given {f} of the top layer's output at the last time step for {case}, not "
    "that output itself: an activation sits between the LSTM and the head. The LSTM's h is "
    "already squashed (h = o * tanh(c)); give it to the nn.Linear head as it is."
)
HEAD_GOT_RIGHT = (
    "Your head was given the right tensor for {case}, the top layer's output at the last time "
    "step, but your output differs from what the head makes of it (largest difference "
    "{diff:.3g}): return the head's output as it is, with nothing applied after it."
)
UNBATCHED_SHAPE = (
    "For one unbatched sequence of shape {x} your output has shape {got}; expected {want}."
)
UNBATCHED_ADDED = " Drop the batch dimension you added."
BATCH_SHAPE = (
    "Your output for a batch of {b} sequences of length {t} has shape {got}; expected ({b}, {o}), "
    "one row per sequence."
)
EVERY_STEP = " You kept every time step: apply the head to the last one only, out[:, -1, :]."
ALL_LAYERS = " The head was applied to all of h_n (every layer); use the top layer, h_n[-1]."
NOT_DETERMINISTIC = (
    "Three calls of your forward on the same input gave different outputs. The initial "
    "states must be zeros (torch.zeros / x.new_zeros), not torch.randn or torch.empty, "
    "and nothing random may happen in forward."
)
DROPOUT = (
    "Three calls of your forward on the same input gave different outputs: your network drops "
    "units at random (dropout={p:g}, in nn.LSTM(..., dropout=...) or an nn.Dropout), and it "
    "runs in training mode here. This network has no dropout: build nn.LSTM without the "
    "dropout argument and leave nn.Dropout out, so that the output is the head on the top "
    "layer's last step, the same at every call."
)
OUTPUT_RIGHT = "your output matches the reference's"
