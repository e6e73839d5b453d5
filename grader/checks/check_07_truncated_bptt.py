"""Checks for exercise 7: `train_tbptt`, truncated backpropagation through time.

Each check trains a small ChunkModel with the learner's function and with the reference from
the same weights and compares the parameters. The model records every chunk it was given and
whether the state came in as None, detached or still attached to its graph: those facts name
a wrong cut of the sequence or a lost state; the usual mistakes are replayed to name the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch

from grader.checking import call, defines, depends, fail, floats, points
from grader.checking.diagnosis import Mistake, diagnose
from grader.checking.explainers import Comparison, explain
from grader.checking.values import all_close, near, spans, window_start
from grader.confined.probes.models import ChunkModel, chunk_setup
from grader.learner import Learner

EXERCISE = "07_truncated_bptt"
BATCH, CHUNK, LR = 3, 5, 0.1


@dataclass(frozen=True)
class Problem:
    """Weights and (inputs, targets) sequences that one model is trained on, in turn."""

    weights: list[torch.Tensor]
    sequences: list[list[torch.Tensor]]


test_imports = defines("train_tbptt")


@points(4)
@depends("test_imports")
def test_one_sequence(learner: Learner) -> None:
    """Training on one sequence of 4 chunks leaves the parameters as the reference's"""
    judge(learner, make_problem(seed=1, length=4 * CHUNK))


@points(2)
@depends("test_one_sequence")
def test_uneven_length(learner: Learner) -> None:
    """A sequence whose last chunk is shorter is trained to its last step"""
    judge(learner, make_problem(seed=2, length=3 * CHUNK + 3))


@points(2)
@depends("test_one_sequence")
def test_new_sequence(learner: Learner) -> None:
    """A second call, a new sequence, starts from a zero state"""
    judge(learner, make_problem(seed=3, length=3 * CHUNK, count=2))


@points(2)
@depends("test_one_sequence")
def test_returns_losses(learner: Learner) -> None:
    """Returns each chunk's loss, as Python floats"""
    problem = make_problem(seed=4, length=3 * CHUNK)
    want = replay(reference, problem)["returned"][0]
    got = floats(run(learner, problem)["returned"][0], "train_tbptt", FLOATS)
    if len(got) != len(want):
        fail(LOSS_COUNT.format(n=len(got), want=len(want)))
    if not all(map(near, got, want)):
        found = explain(Comparison(torch.tensor(got), torch.tensor(want), 1e-5, 1e-4,
                                   "The list of losses you returned", time_dim=0))  # fmt: skip
        fail(f"{LOSSES_WRONG} {found}".strip())


# --------------------------------------------------------------------- the reference and mistakes


def variant(reset=False, at_end=False, zero_grad=True, carry=None):
    """A train_tbptt with one of the usual mistakes (the defaults make the reference); `carry`
    is a dict that keeps the state across calls."""

    def train(model, inputs, targets, chunk_len, criterion, optimizer):
        state, losses = (carry or {}).get("state"), []
        for start in range(0, inputs.size(1), chunk_len):
            if zero_grad and not at_end:
                optimizer.zero_grad()
            x, y = inputs[:, start : start + chunk_len], targets[:, start : start + chunk_len]
            predictions, state = model(x, None if reset else state)
            loss = criterion(predictions, y)
            loss.backward()
            if not at_end:
                optimizer.step()
            state = tuple(s.detach() for s in state)
            losses.append(loss.item())
        if at_end:
            optimizer.step()
        if carry is not None:
            carry["state"] = state
        return losses

    return train


reference = variant()


def mistakes(problem: Problem) -> list[Mistake]:
    """The usual mistakes, each replayed on the problem."""
    return [
        Mistake(name, partial(trained, step_fn, problem), message)
        for name, step_fn, message in (
            ("reset", variant(reset=True), STATE_RESET),
            ("carried", variant(carry={}), CARRIED),
            ("step_at_end", variant(at_end=True), STEP_AT_END),
            ("no_zero_grad", variant(zero_grad=False), NO_ZERO_GRAD),
        )
    ]


# --------------------------------------------------------------------- helpers


def make_problem(seed: int, length: int, count: int = 1) -> Problem:
    torch.manual_seed(seed)
    weights = [p.detach().clone() for p in ChunkModel().parameters()]
    series = [torch.randn(BATCH, length + 1, 1).cumsum(1) * 0.3 for _ in range(count)]
    return Problem(weights, [[s[:, :-1].clone(), s[:, 1:].clone()] for s in series])


def replay(step_fn, problem: Problem) -> dict:
    """Run `step_fn` as the probe runs the learner's function."""
    model, optimizer, criterion = chunk_setup(problem.weights, LR)
    found: dict = {"params": [], "returned": []}
    for inputs, targets in problem.sequences:
        found["returned"].append(step_fn(model, inputs, targets, CHUNK, criterion, optimizer))
        found["params"].append([p.detach().clone() for p in model.parameters()])
    return found


def trained(step_fn, problem: Problem) -> list:
    """The parameters after each call of `step_fn`."""
    return replay(step_fn, problem)["params"]


def run(learner: Learner, problem: Problem) -> dict:
    args = {"weights": problem.weights, "sequences": problem.sequences, "chunk_len": CHUNK}
    return call(learner, "tbptt.train", "Your train_tbptt", explain=error_hint, lr=LR, **args)


def error_hint(error: dict, reply: dict) -> str:
    """The meaning of an error from backward, when the model was given an attached state."""
    attached = any(c["state"] == "attached" for c in reply.get("calls", []))
    gone = any(words in error.get("message", "") for words in GRAPH_GONE)
    return NO_DETACH if attached and gone else ""


def judge(learner: Learner, problem: Problem) -> None:
    """Fail with the most specific message unless the parameters after every call are the
    reference's: first what the model saw (chunks, state), then the replayed mistakes."""
    reply = run(learner, problem)
    if all_close(reply["params"], replay(reference, problem)["params"]):
        return
    if found := seen(reply, problem):
        fail(found)
    fail(diagnose(reply["params"], mistakes(problem), all_close, WRONG))


def seen(reply: dict, problem: Problem) -> str:
    """A fact of the forward calls that explains a wrong result, or ""."""
    calls, ends = reply["calls"], [0, *reply["forwards"]]
    for n, (inputs, _) in enumerate(problem.sequences):
        mine = calls[ends[n] : ends[n + 1]]
        starts = [window_start(c["x"], inputs) for c in mine]
        lengths = [int(c["x"].shape[1]) for c in mine]
        want = list(range(0, inputs.size(1), CHUNK))
        sizes = [min(CHUNK, inputs.size(1) - s) for s in want]
        if starts != want or lengths != sizes:
            return CHUNKS.format(got=spans(starts, lengths), want=spans(want, sizes))
        if mine and n > 0 and mine[0]["state"] != "none":
            return CARRIED
        if any(c["state"] == "none" for c in mine[1:]):
            return STATE_RESET
    return ""


# --------------------------------------------------------------------- messages

GRAPH_GONE = ("a second time", "modified by an inplace operation")  # backward into a freed graph
NO_DETACH = (
    "Your loop gave the model a state that still holds the previous chunk's graph: backward "
    "then runs back into a chunk already backpropagated (retain_graph=True only moves the "
    "error). Carry the values and cut the graph: state = tuple(s.detach() for s in state)."
)
STATE_RESET = (
    "Your model was given state None after the first chunk: the state is reset every chunk, "
    "so the model never reads across a chunk's border. Carry (h, c) into the next chunk."
)
CARRIED = (
    "A second call of train_tbptt, a new sequence, started from the state the previous call "
    "left: each call must start from state = None (keep the state in a local variable)."
)
STEP_AT_END = (
    "Your parameters match one optimizer.step() at the very end, after every chunk's "
    "backward: truncated BPTT updates once per chunk, right after that chunk's backward."
)
NO_ZERO_GRAD = (
    "Your parameters match a loop that never clears the gradients: each chunk's backward "
    "ADDS to the previous chunks' .grad. Call optimizer.zero_grad() once per chunk."
)
CHUNKS = (
    "Your model was given the time steps {got}; chunks of {chunk} steps, in order, without "
    "overlap or gap, are {want} (the last may be shorter)."
).replace("{chunk}", str(CHUNK))
WRONG = (
    "Your parameters differ from the reference's, though the model was given the right chunks "
    "with the state carried, and they match none of the usual mistakes. Per chunk: zero_grad, "
    "model(x, state), criterion(predictions, y), backward, step, then detach the state."
)
FLOATS = "a list of Python floats, one loss.item() per chunk"
LOSS_COUNT = "train_tbptt returned {n} losses for {want} chunks: one loss per chunk."
LOSSES_WRONG = (
    "The losses you returned differ from each chunk's loss before its update, "
    "criterion(predictions, y).item()."
)
