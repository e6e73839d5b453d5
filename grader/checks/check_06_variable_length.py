"""Checks for exercise 6: `SequenceClassifier` and `masked_mean` over padded batches.

The classifier gets the reference's weights (mapped by the structure of nn.LSTM and nn.Linear,
never by attribute names) and reads padded batches whose lengths differ: sorted longest first
with zero padding, then in any order with padding of large values, and padded beyond the
longest sequence, so that reading any padded step changes the answer. When the scores differ,
the reference's own layers replay the usual mistakes (the padded last step, the zeros that
pad_packed_sequence adds back, rows left in sorted order, the bottom layer, a softmax) to name
the cause. `masked_mean` is compared on padding of large values, and the means that count the
padding are replayed the same way. `lengths` stays on the CPU on every device, as
pack_padded_sequence wants it.
"""

from __future__ import annotations

import re
from types import ModuleType

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from grader.checking import call, defines, depends, fail, messages, points, tensor
from grader.checking.explainers import Comparison, explain
from grader.checking.values import close, dims, max_difference, shape, tolerance
from grader.confined.probes.common import canonical_parameters
from grader.figures import curve, record_figure
from grader.learner import Learner

EXERCISE = "06_variable_length"
SIZES = (5, 8, 2, 3)  # input 5, hidden 8, 2 layers (so h_n[0] is not the top), 3 classes
ONE_LAYER = (4, 6, 1, 2)
SORTED = (7, 5, 3, 1)  # longest first, distinct, down to a single step
UNSORTED = (3, 7, 1, 5)  # the batch's own order; distinct, so a sorted order shows
LARGE = 20.0  # padding far from the data, so that reading it changes every result
CODE_SHOWN = 70  # characters of the learner's packing line quoted in a message


test_imports = defines("SequenceClassifier", "masked_mean")


@points(0)  # a structure alone earns nothing: its point goes to reading the right steps
@depends("test_imports")
def test_structure(learner: Learner) -> None:
    """SequenceClassifier is one nn.LSTM and one nn.Linear head of the right sizes"""
    for sizes in (SIZES, ONE_LAYER):
        what = f"SequenceClassifier{sizes}"
        reply = call(learner, "variable_length.build", what, expected=SUBCLASS, sizes=list(sizes))
        if problem := structure_problem(reply, sizes):
            fail(problem)


@points(3)
@depends("test_structure")
def test_sorted_lengths(learner: Learner, reference: ModuleType) -> None:
    """Scores for lengths sorted longest first, padded with zeros, equal the reference's"""
    for k, sizes in enumerate((SIZES, ONE_LAYER)):
        batch = Batch(reference, sizes, SORTED, max(SORTED), seed=10 + k, fill="zeros")
        batch.judge(classify(learner, batch))


@points(3)
@depends("test_structure")
def test_unsorted_lengths(on_device: Learner, reference: ModuleType) -> None:
    """Scores for lengths in any order, padded with large values, equal the reference's"""
    cases = [(SIZES, UNSORTED, 7), (ONE_LAYER, (2, 4, 3), 6), (SIZES, (4, 1, 6), 9)]
    for k, (sizes, lengths, t) in enumerate(cases):
        batch = Batch(reference, sizes, lengths, t, seed=20 + k, fill="large")
        batch.judge(classify(on_device, batch), on_device.device)


@points(1)
@depends("test_structure")
def test_gradients(learner: Learner, reference: ModuleType) -> None:
    """Gradients reach every parameter and equal the reference's"""
    batch = Batch(reference, SIZES, UNSORTED, 7, seed=30, fill="large")
    weights = torch.randn(len(UNSORTED), SIZES[-1], generator=torch.Generator().manual_seed(31))
    reply = classify(learner, batch, weighting=weights)
    batch.judge(reply)
    if "grads" not in reply:
        fail(messages.NO_GRADIENT.format(name="the parameters", what="your forward"))
    (batch.net(batch.x, batch.lengths) * weights).sum().backward()
    params = canonical_parameters(batch.net)
    for got, name, p in zip(reply["grads"], parameter_names(batch.net), params, strict=True):
        facts = {"name": name, "shape": shape(p), "result": SCORES_RIGHT}
        if type(got) is not torch.Tensor or not bool(got.abs().sum() > 0):
            fail(messages.PARAMETER_NO_GRADIENT.format(**facts))
        if not close(got, p.grad, *tolerance()):
            diff = max_difference(got, p.grad)
            fail(messages.PARAMETER_WRONG_GRADIENT.format(diff=diff, **facts))


@points(3)
@depends("test_imports")
def test_masked_mean(on_device: Learner, reference: ModuleType) -> None:
    """masked_mean over padding of large values equals the reference's"""
    for k, (lengths, t, features) in enumerate(((UNSORTED, 7, 6), ((2, 4, 3), 6, 2))):
        steps = padded(lengths, t, features, seed=40 + k, fill="large")
        judge_mean(mean_of(on_device, steps, torch.tensor(lengths)), reference, on_device.device)


# --------------------------------------------------------------------- helpers


def padded(lengths, t: int, features: int, seed: int, fill: str) -> torch.Tensor:
    """A (B, t, features) batch of random sequences, padded after each end with zeros or
    with large values."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(len(lengths), t, features, generator=g)
    for b, n in enumerate(lengths):
        pad = torch.randn(t - n, features, generator=g)
        x[b, n:] = 0.0 if fill == "zeros" else LARGE + 5 * pad
    return x


def parameter_names(net) -> list[str]:
    """The reference's parameters in the order of canonical_parameters, named by their layer."""
    layers = (("LSTM", net.lstm), ("head", net.head))
    return [
        f"Your {role}'s {name}" for role, layer in layers for name, _ in layer.named_parameters()
    ]


class Batch:
    """The reference's weights, a padded batch and its lengths, made from a seed."""

    def __init__(self, reference: ModuleType, sizes, lengths, t: int, seed: int, fill: str):
        self.sizes = tuple(sizes)
        torch.manual_seed(seed)
        self.net = reference.SequenceClassifier(*sizes)
        self.x = padded(lengths, t, sizes[0], seed, fill)
        self.lengths = torch.tensor(lengths)
        self.case = f"{len(lengths)} sequences of lengths {dims(self.lengths)} padded to {t}"

    def judge(self, reply: dict, device: str = "cpu") -> None:
        """Fail with the most specific message unless the scores equal the reference's: a
        mistake is named only when its replay gives the learner's scores, or when the runner
        saw it (a batch packed the wrong way round)."""
        y = tensor(reply["y"], "Your forward")
        net = self.net
        with torch.no_grad():
            expected = net(self.x, self.lengths)
            replayed = mistakes(net, self.x, self.lengths)
        if y.shape == expected.shape:
            record_read_steps(net, self.x, self.lengths, y, tolerance(device))
        if y.shape != expected.shape or not close(y, expected, *tolerance(device)):
            for cause, candidate in replayed.items():
                if close(y, candidate, *tolerance(device)):
                    fail(self.cause_message(cause, y))
            if problem := packing_problem(reply.get("packed")):
                fail(problem)
            if y.shape != expected.shape:
                fail(shape_message(y, self.case, self.x.shape, net))
            fail(values_message(y, expected, self, device))
        if reply["mutated"]:
            fail(MUTATED.format(what="Your forward", name=reply["mutated"][0]))

    def cause_message(self, cause: str, y: torch.Tensor) -> str:
        """The message of a replayed mistake, for this batch."""
        if cause in SHAPE_CAUSES:
            c = self.net.head.out_features
            found = SHAPE.format(case=self.case, got=shape(y), b=self.x.size(0), c=c)
            return found + SHAPE_CAUSES[cause]
        return CAUSES[cause].format(case=self.case, **self.shorter())

    def shorter(self) -> dict:
        """The lengths of the sequences shorter than the padded batch, for messages."""
        short = [int(n) for n in self.lengths if n < self.x.size(1)]
        return {"short": dims(short), "t": self.x.size(1)}


def classify(learner: Learner, batch: Batch, **options) -> dict:
    """The learner's forward on the batch with the reference's weights."""
    return call(
        learner,
        "variable_length.classify",
        "Your forward",
        explain=lambda error, reply: (
            packing_problem(reply.get("packed"))
            or error_hint(error, batch.lengths, batch.x.size(1))
        ),
        sizes=list(batch.sizes),
        weights=[p.detach().clone() for p in canonical_parameters(batch.net)],
        x=batch.x,
        lengths=batch.lengths,
        device=learner.device,
        **options,
    )


def error_hint(error: dict, lengths: torch.Tensor, t: int) -> str:
    """What an error of the learner's code on this batch means, from torch's message, or ""."""
    text = error.get("message", "")
    if "sorted in decreasing order" in text:
        return ENFORCE_SORTED.format(lengths=dims(lengths))
    if "CPU int64" in text:
        return LENGTHS_ON_CPU
    past = re.search(r"index (\d+) is out of bounds for dimension \d+ with size (\d+)", text)
    if past and int(past[1]) == int(past[2]) == t:
        return OFF_BY_ONE.format(t=t, last=t - 1)
    if "same device" in text:
        return DEVICES
    return ""


def packing_problem(packed) -> str:
    """A packing the runner saw whose lengths go past the dimension it read as time: torch
    packs it without a word, and nn.LSTM fails or reads the wrong steps later. "" if none."""
    for found in packed if type(packed) is list else []:
        if not well_formed(found):
            continue
        batch_first, sizes = found["batch_first"], found["shape"]
        time = sizes[1] if batch_first else sizes[0]
        if max(found["lengths"]) <= time:
            continue
        line, code = found["line"], found["code"][:CODE_SHOWN]
        where = f" at line {line}" + (f" (`{code}`)" if code else "") if line else ""
        advice = PACK_BATCH_FIRST if not batch_first else PACK_AS_GIVEN
        facts = {"dim": int(batch_first), "size": time, "flag": batch_first, "advice": advice}
        return PACKED_WRONG_WAY.format(where=where, longest=max(found["lengths"]), **facts)
    return ""


def well_formed(found) -> bool:
    """A packing call as the probe describes it (the runner's data: checked, never trusted)."""
    return (
        type(found) is dict
        and type(found.get("batch_first")) is bool
        and type(found.get("line")) in (int, type(None))
        and type(found.get("code")) is str
        and _ints(found.get("shape"))
        and len(found["shape"]) >= 2
        and _ints(found.get("lengths"))
        and len(found["lengths"]) > 0
    )


def _ints(value) -> bool:
    return type(value) is list and all(type(n) is int for n in value)


def mistakes(net, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
    """What the usual mistakes compute, replayed with the reference's own layers (those of
    SHAPE_CAUSES give scores of another shape)."""
    lstm, head = net.lstm, net.head
    out, (h_padded, _) = lstm(x)  # the padded batch, read to its end: (B, T, hidden)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out_packed, (h_n, _) = lstm(packed)
    unpacked, _ = pad_packed_sequence(out_packed, batch_first=True)  # zeros after each end
    right = head(h_n[-1])
    found = {
        "padded_last_step": head(out[:, -1]),
        "unpacked_last_step": head(unpacked[:, -1]),
        "sorted_order": right[torch.sort(lengths, descending=True, stable=True).indices],
        "softmax": right.softmax(dim=-1),
        # out[b, lengths[b]], kept inside the batch: the first padded step, not the last real one
        "one_past_end": head(out[torch.arange(len(lengths)), lengths.clamp(max=x.size(1) - 1)]),
    }
    if lstm.num_layers > 1:
        found["bottom_layer"] = head(h_n[0])
    found |= {
        "every_step": head(out),  # (B, T, classes)
        "every_step_unpacked": head(unpacked),
        "lengths_index": head(out[:, lengths - 1]),  # (B, B, classes)
        "all_layers": head(h_n),  # (layers, B, classes)
        "all_layers_padded": head(h_padded),
        "no_head": h_n[-1],  # (B, hidden)
    }
    return found


def shape_message(y: torch.Tensor, case: str, batch_shape, net) -> str:
    """The message for scores of a wrong shape that no replayed mistake gives: the shape,
    and which of its sizes is the padded length, the batch or the hidden size."""
    b, t, _ = batch_shape
    c, h = net.head.out_features, net.head.in_features
    message = SHAPE.format(case=case, got=shape(y), b=b, c=c)
    if y.dim() == 3 and y.shape[0] == b and y.shape[1] == t:
        return message + SIZE_SEEN.format(dim=1, size=t, what="the padded length")
    if y.dim() == 2 and tuple(y.shape) == (b, h) and h != c:
        return message + SIZE_SEEN.format(dim=1, size=h, what="the hidden size")
    return message


def values_message(y: torch.Tensor, expected: torch.Tensor, batch: Batch, device: str) -> str:
    """The message for scores that match no known mistake, naming the rows that differ."""
    full = [b for b, n in enumerate(batch.lengths) if n == batch.x.size(1)]
    right = [b for b in range(len(y)) if close(y[b], expected[b], *tolerance(device))]
    if full and right == full:  # every full-length row right, every shorter one wrong
        return SHORT_ROWS_WRONG.format(case=batch.case, **batch.shorter())
    diff = max_difference(y, expected)
    relation = explain(Comparison(y, expected, *tolerance(device), "Your scores", time_dim=None))
    return f"{WRONG_VALUES.format(case=batch.case, shape=shape(y), diff=diff)} {relation}".strip()


def mean_of(learner: Learner, steps: torch.Tensor, lengths: torch.Tensor) -> dict:
    """The learner's masked_mean of `steps`, with the inputs it was given."""
    reply = call(
        learner,
        "variable_length.mean",
        "Your masked_mean",
        explain=lambda error, _: error_hint(error, lengths, steps.size(1)),
        steps=steps,
        lengths=lengths,
        device=learner.device,
    )
    return {**reply, "steps": steps, "lengths": lengths}


def judge_mean(reply: dict, reference: ModuleType, device: str) -> None:
    """Fail with the most specific message unless the means equal the reference's."""
    steps, lengths = reply["steps"], reply["lengths"]
    what = f"{len(lengths)} sequences of lengths {dims(lengths)} padded to {steps.size(1)}"
    got = tensor(reply["value"], "Your masked_mean")
    expected = reference.masked_mean(steps, lengths)
    if got.shape != expected.shape:
        fail(MEAN_SHAPE.format(case=what, got=shape(got), want=shape(expected)))
    if not close(got, expected, *tolerance(device)):
        for cause, candidate in mean_mistakes(steps, lengths).items():
            if close(got, candidate, *tolerance(device)):
                fail(MEAN_CAUSES[cause].format(case=what, t=steps.size(1)))
        fail(MEAN_WRONG.format(case=what, diff=max_difference(got, expected)))
    if reply["mutated"]:
        fail(MUTATED.format(what="Your masked_mean", name=reply["mutated"][0]))


def mean_mistakes(steps: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
    """What the usual wrong means compute."""
    real = torch.arange(steps.size(1)) < lengths[:, None]  # (B, T)
    real_sum = steps.masked_fill(~real[..., None], 0).sum(dim=1)
    one_more = torch.arange(steps.size(1)) <= lengths[:, None]  # t <= lengths[b]
    n = lengths[:, None].to(steps.dtype)
    return {
        "mean_all": steps.mean(dim=1),
        "sum_all_by_length": steps.sum(dim=1) / n,
        "by_padded_length": real_sum / steps.size(1),
        "sum_only": real_sum,
        "one_step_more": steps.masked_fill(~one_more[..., None], 0).sum(dim=1) / n,
        "one_step_more_mean": steps.masked_fill(~one_more[..., None], 0).sum(dim=1)
        / one_more.sum(dim=1, keepdim=True).to(steps.dtype),
    }


def structure_problem(reply: dict, sizes) -> str | None:
    """What is wrong with how SequenceClassifier(*sizes) is built, or None."""
    i, h, layers, c = sizes
    lstms, linears = reply["lstms"], reply["linears"]
    if len(lstms) != 1:
        return ONE_LSTM.format(sizes=sizes, n=len(lstms))
    if lstms[0]["bidirectional"] or lstms[0]["proj_size"]:
        return PLAIN_LSTM.format(sizes=sizes)
    got = (lstms[0]["input_size"], lstms[0]["hidden_size"], lstms[0]["num_layers"])
    if got != (i, h, layers):
        return LSTM_SIZES.format(sizes=sizes, got=got, want=(i, h, layers))
    heads = [(m["in_features"], m["out_features"]) for m in linears]
    if heads != [(h, c)]:
        return HEAD.format(sizes=sizes, h=h, c=c, got=heads or "none")
    if reply["other_parameters"]:
        return EXTRA.format(sizes=sizes, shapes=reply["other_parameters"])
    return None


# --------------------------------------------------------------------- messages

SUBCLASS = messages.NOT_A_MODULE.format(name="SequenceClassifier")
ONE_LSTM = (
    "SequenceClassifier{sizes} holds {n} nn.LSTM modules; it reads the batch with exactly one, "
    "of num_layers stacked layers."
)
PLAIN_LSTM = (
    "The nn.LSTM of SequenceClassifier{sizes} is bidirectional or projected; this exercise "
    "uses a plain one."
)
LSTM_SIZES = (
    "SequenceClassifier{sizes} built nn.LSTM with (input_size, hidden_size, num_layers) = "
    "{got}; expected {want}."
)
HEAD = (
    "SequenceClassifier{sizes} needs exactly one nn.Linear head, nn.Linear({h}, {c}), from the "
    "hidden state to the class scores; its nn.Linear layers are {got}."
)
EXTRA = messages.EXTRA_PARAMETERS.format(
    what="SequenceClassifier{sizes}", expected="the LSTM and the head", shapes="{shapes}"
)
ENFORCE_SORTED = (
    "These lengths {lengths} are in the batch's own order: pass enforce_sorted=False, and "
    "pack_padded_sequence sorts them for you and gives h_n back in x's order."
)
LENGTHS_ON_CPU = (
    "pack_padded_sequence takes lengths on the CPU, even when x is on a GPU: packing counts on "
    "the CPU how many sequences still run at each step. Pass lengths as you were given it (or "
    "lengths.cpu()), not lengths.to(x.device)."
)
OFF_BY_ONE = (
    "An index reached past the end of the padded batch: with {t} steps, the last index is "
    "{last}. Counting from 0, sequence b's last real step is at index lengths[b] - 1."
)
DEVICES = (
    "lengths stays on the CPU while the batch is on the GPU: move it, or anything made from it "
    "such as a mask, to the batch's device before computing with the batch "
    "(lengths.to(steps.device), torch.arange(T, device=steps.device))."
)
CAUSES = {
    "padded_last_step": "Your scores for {case} match the head on out[:, -1] of the padded batch: for the sequences shorter than {t} steps (lengths {short}) that is the state after reading their padding, not at their own end. Read each sequence's last real step: pack the batch (pack_padded_sequence(..., enforce_sorted=False)) and take h_n[-1], or gather out[torch.arange(B), lengths - 1].",
    "unpacked_last_step": "Your scores for {case} match the head on out[:, -1] after pad_packed_sequence: for every sequence shorter than the longest, that step is the padding pad_packed_sequence puts back (zeros), so its row is the head's bias alone. Take h_n[-1] of the packed run, or out[torch.arange(B), lengths - 1].",
    "sorted_order": "Your scores for {case} are the right rows in the wrong order: sorted by length, longest first. Row b must belong to sequence b of x. Let pack_padded_sequence(..., enforce_sorted=False) sort and restore the order, or put your rows back with y[order.argsort()].",
    "bottom_layer": "Your scores for {case} match the head on h_n[0], the BOTTOM layer's final state. h_n is (num_layers, batch, hidden): the top layer is h_n[-1].",
    "one_past_end": "Your scores for {case} match the head on out[b, lengths[b]] for the sequences shorter than {t} steps (lengths {short}): one step past their end, the first padded step. Indices start at 0, so sequence b's last real step is at index lengths[b] - 1: out[torch.arange(B), lengths - 1].",
    "softmax": "Your scores for {case} are the right scores passed through a softmax. Return the head's raw scores (logits): nn.CrossEntropyLoss applies log-softmax itself.",
}
SHORT_ROWS_WRONG = (
    "Your scores for {case} are right for the sequences of full length {t} but wrong for the "
    "shorter ones (lengths {short}): most likely your code reads their padding, zeros or not "
    "(the LSTM's state changes with every step it reads). Read sequence b at index "
    "lengths[b] - 1, or pack the batch and take h_n[-1]."
)
WRONG_VALUES = (
    "Your scores for {case} have the right shape {shape} but differ from the reference's with "
    "the same weights (largest difference {diff:.3g}), "
    + messages.NONE_MATCH
    + " Check that you read the top layer at each sequence's own last step, keep the rows in x's "
    "order, and apply the head with nothing after it."
)
SHAPE = (
    "Your scores for {case} have shape {got}; expected ({b}, {c}), one row of {c} scores per "
    "sequence."
)
EVERY_STEP = " You kept every time step: read one step per sequence, its last real one."
ALL_LAYERS = " The head was applied to all of h_n (every layer); use the top layer, h_n[-1]."
SHAPE_CAUSES = {  # replayed mistakes whose scores have another shape
    "every_step": EVERY_STEP,
    "every_step_unpacked": EVERY_STEP,
    "lengths_index": " They match the head on out[:, lengths - 1], which takes every sequence at every sequence's last index, (B, B, hidden). Take one step per row: out[torch.arange(B), lengths - 1].",
    "all_layers": ALL_LAYERS,
    "all_layers_padded": ALL_LAYERS,
    "no_head": " They are the top layer's state at each sequence's last step itself: apply the nn.Linear head to it.",
}
SIZE_SEEN = " Their dimension {dim} has size {size}, {what}."
PACKED_WRONG_WAY = (
    "Your pack_padded_sequence{where} read dimension {dim} of the batch it packed, of size "
    "{size}, as time (batch_first={flag}), but your lengths go up to {longest}. torch packs "
    "this without a word, and nn.LSTM then fails or reads the wrong steps. {advice}"
)
PACK_BATCH_FIRST = "x is (batch, seq, features): pass batch_first=True."
PACK_AS_GIVEN = "With batch_first=True, pack x as (batch, seq, features), as you were given it."
SCORES_RIGHT = "your scores match the reference's"
MUTATED = messages.INPUT_CHANGED + " For example: {name}.masked_fill(...) or {name} * mask."
MEAN_SHAPE = (
    "Your masked_mean for {case} has shape {got}; expected {want}: one mean per sequence and "
    "feature, averaged over time (dimension 1) only."
)
MEAN_CAUSES = {
    "mean_all": "Your means for {case} count the padding: they equal steps.mean(dim=1), which adds the padded steps and divides every sum by {t}. Average over the real steps only: a mask torch.arange(T) < lengths[:, None] (on steps' device), the masked sum, divided by lengths.",
    "sum_all_by_length": "Your means for {case} add the padding too: they equal steps.sum(dim=1) / lengths. Zero the padded steps first (masked_fill with the mask ~(torch.arange(T) < lengths[:, None])), then sum and divide.",
    "by_padded_length": "Your means for {case} divide the sum of the real steps by the padded length {t}, so the padding still counts, as zeros. Divide by each sequence's own length, lengths[:, None].",
    "one_step_more": "Your means for {case} count one step too many: the step at index lengths[b], the first padded one, is in each sum, as a mask t <= lengths[b] gives. Steps 0 to lengths[b] - 1 are the real ones: torch.arange(T) < lengths[:, None].",
    "one_step_more_mean": "Your means for {case} count one step too many: the step at index lengths[b], the first padded one, is in each mean, as a mask t <= lengths[b] gives. Steps 0 to lengths[b] - 1 are the real ones: torch.arange(T) < lengths[:, None].",
    "sum_only": "Your result for {case} is the sum over the real steps, not their mean: divide by each sequence's length, lengths[:, None].",
}
MEAN_WRONG = (
    "Your masked_mean for {case} differs from the mean over each sequence's real steps (largest "
    "difference {diff:.3g}). Check the mask (True where t < lengths[b]), that padded steps add "
    "nothing, and that you divide by each sequence's length."
)


def record_read_steps(net, x, lengths, y, tolerance: tuple[float, float]) -> None:
    """The step at which the learner's scores `y` read each sequence of the
    padded batch `x`, found by running the reference's own layers `net` over every step here,
    against the last real step, lengths - 1."""
    with torch.no_grad():
        out, _ = net.lstm(x)  # (batch, T, hidden): step t sees steps 0..t only
        per_step = net.head(out)  # (batch, T, classes)
    steps = range(x.size(1))
    read = [
        next((t for t in steps if close(y[b], per_step[b, t], *tolerance)), None)
        for b in range(len(y))
    ]
    record_figure(
        "The step each sequence is read at",
        curve("last real step, lengths - 1", (lengths - 1).tolist()),
        curve("yours (none: no single step matches)", read),
        caption=f"{x.size(0)} sequences of lengths {lengths.tolist()} padded to {x.size(1)}",
        xlabel="sequence in the batch",
        ylabel="time step",
        points=True,
    )
