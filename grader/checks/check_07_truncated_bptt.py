"""Checks for exercise 7: `train_tbptt`, truncated backpropagation through time.

Each check trains a ChunkModel with the learner's function and with the reference from the
same weights and compares the parameters. What the model recorded (each chunk, how the state
came in) names a wrong cut or a lost state; the reference with optimizer calls skipped, the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from types import ModuleType

import torch

from grader.checking import call, defines, depends, floats, points
from grader.checking.compare import expect_numbers, expect_same
from grader.checking.diagnosis import Hint, hints, variants
from grader.checking.reference import Trained, seeded_weights, skipping, train_in_turn
from grader.checking.values import all_close, chunking
from grader.confined.probes.models import ChunkModel, chunk_setup
from grader.learner import Learner

EXERCISE = "07_truncated_bptt"
BATCH, CHUNK, LR = 3, 5, 0.1

test_imports = defines("train_tbptt")


@points(4)
@depends("test_imports")
def test_one_sequence(learner: Learner, reference: ModuleType) -> None:
    """Training on one sequence of 4 chunks leaves the parameters as the reference's"""
    judge(learner, reference.train_tbptt, problem(seed=1, length=4 * CHUNK))


@points(2)
@depends("test_one_sequence")
def test_uneven_length(learner: Learner, reference: ModuleType) -> None:
    """A sequence whose last chunk is shorter is trained to its last step"""
    judge(learner, reference.train_tbptt, problem(seed=2, length=3 * CHUNK + 3))


@points(2)
@depends("test_one_sequence")
def test_new_sequence(learner: Learner, reference: ModuleType) -> None:
    """A second call, a new sequence, starts from a zero state"""
    judge(learner, reference.train_tbptt, problem(seed=3, length=3 * CHUNK, count=2))


@points(2)
@depends("test_one_sequence")
def test_returns_losses(learner: Learner, reference: ModuleType) -> None:
    """Returns each chunk's loss, as Python floats"""
    args = problem(seed=4, length=3 * CHUNK)
    got = floats(run(learner, args)["returned"][0], "train_tbptt", FLOATS)
    want = replay(reference.train_tbptt, args).returned[0]
    expect_numbers(got, want, "The list of losses you returned", LOSS_COUNT, LOSSES_WRONG)


def judge(learner: Learner, train: Callable, args: dict) -> None:
    """Fail unless the parameters after each call are the reference's: facts, then mistakes."""
    reply = run(learner, args)
    mistakes = variants(MISTAKES, lambda flags: replay(train, args, **flags).params)
    seen = partial(what_the_model_saw, reply["calls"], args["sequences"])
    expect_same(reply["params"], replay(train, args).params, all_close, mistakes, WRONG, seen)


def what_the_model_saw(calls: list[list[dict]], sequences: list) -> str:
    """A fact of the forward calls (per sequence) that explains a wrong result, or ""."""
    for n, ((inputs, _), mine) in enumerate(zip(sequences, calls, strict=True)):
        if cut := chunking([c["x"] for c in mine], inputs, CHUNK):
            return CHUNKS.format(got=cut[0], want=cut[1])
        if mine and n > 0 and mine[0]["state"] != "none":
            return CARRIED
        if any(c["state"] == "none" for c in mine[1:]):
            return STATE_RESET
    return ""


def run(learner: Learner, args: dict) -> dict:
    """The learner's train_tbptt over the sequences; an error means what NOT_DETACHED says."""
    return call(learner, "tbptt.train", "Your train_tbptt", explain=hints(NOT_DETACHED), **args)


def attached(reply: dict) -> bool:
    """Whether the model was given a state still attached to a chunk's graph."""
    return any(c["state"] == "attached" for calls in reply["calls"] for c in calls)


def problem(seed: int, length: int, count: int = 1) -> dict:
    """The probe's arguments: weights and `count` (inputs, targets) sequences to train on."""
    weights = list(seeded_weights(ChunkModel, seed).values())
    series = [torch.randn(BATCH, length + 1, 1).cumsum(1) * 0.3 for _ in range(count)]
    sequences = [[s[:, :-1].clone(), s[:, 1:].clone()] for s in series]
    return {"weights": weights, "sequences": sequences, "chunk_len": CHUNK, "lr": LR}


def replay(train, args: dict, skipped: tuple = (), deferred: tuple = ()) -> Trained:
    """`train` run as the probe runs the learner's; `skipped` optimizer calls make a mistake."""
    model, optimizer, criterion = chunk_setup(args["weights"], LR)
    calls = [partial(train, model, x, y, CHUNK, criterion, optimizer) for x, y in args["sequences"]]
    return train_in_turn(model, (partial(skipping, c, optimizer, skipped, deferred) for c in calls))


# --------------------------------------------------------------------- messages

NO_DETACH = (
    "Your loop gave the model a state that still holds the previous chunk's graph: backward "
    "then runs back into a chunk already backpropagated (retain_graph=True only moves the "
    "error). Carry the values and cut the graph: state = tuple(s.detach() for s in state)."
)
GRAPH_GONE = ("a second time", "modified by an inplace operation")  # backward into a freed graph
NOT_DETACHED = Hint(GRAPH_GONE, NO_DETACH, when=attached)
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
MISTAKES = (  # name, the optimizer calls the reference skips (and makes at the end), message
    ("step_at_end", {"skipped": ("zero_grad", "step"), "deferred": ("step",)}, STEP_AT_END),
    ("no_zero_grad", {"skipped": ("zero_grad",)}, NO_ZERO_GRAD),
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
