"""Checks for exercise 3: `LSTMCell`, one LSTM step built from its gates.

The learner's cell gets weights by parameter name (weight_ih, weight_hh, bias_ih, bias_hh) and
is compared with torch's own nn.LSTMCell and, unrolled, with a one-layer nn.LSTM on the same
weights. Torch's LSTM code is not allowed in the learner's cell: the source is read for it here,
and a tripwire in the runner records it at run time. When values differ, the usual mistakes
(gates in another order, activations swapped, no tanh on the cell, the cell updated from h, a
bias left out) are replayed to name the cause.
"""

from __future__ import annotations

import ast
import itertools

import torch
import torch.nn as nn

from grader.checking import (
    TODO_LEFT,
    close,
    depends,
    fail,
    max_difference,
    not_a_tensor,
    points,
    raised,
    require_names,
    shape,
    todo_left,
)
from grader.probes.lstm_cell import FUSED, PARAMETERS

EXERCISE = "03_lstm_cell"
SIZES = (5, 4)  # input_size, hidden_size: 4H = 16 rows of weights
BATCH = 3
OPEN = 30.0  # a gate bias of +30 holds the gate at 1; -30 holds it at 0 (in float64)

# --------------------------------------------------------------------- messages

NOT_A_MODULE = "LSTMCell(...) made a {kind}; LSTMCell must subclass nn.Module."
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
    "functions (torch.lstm_cell, torch._VF...) would compute them for you, so they are not "
    "allowed here. Use matrix products, torch.sigmoid and torch.tanh."
)
NOT_A_PAIR = (
    "Your forward returned {what}; it must return the pair (h, c), the new hidden state and the "
    "new cell state."
)
DTYPE = (
    "\nYour cell fails on {dtype} input: states made with torch.zeros(batch, hidden_size) are "
    "float32 on the CPU whatever x is. Make them with x.new_zeros(...) or "
    "torch.zeros(..., dtype=x.dtype, device=x.device)."
)
DEVICE = (
    "\nYour cell fails on {device}: the zero states must be made on x's device "
    "(x.new_zeros(...) or torch.zeros(..., device=x.device))."
)
NO_STATE_ERROR = (
    "\nWith no state, cell(x) must start from zeros: give forward the default state=None and, "
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
WRONG_SHAPE = "Your {which} for {case} has shape {got}; expected {want}.{hint}"
UNBATCHED = (
    " A sample without a batch dimension is read as a batch here: add one (x.unsqueeze(0), and "
    "the same for a given state) and remove it from h and c at the end (squeeze(0))."
)
WRONG_DTYPE = "Your {which} for {case} has dtype {got}; for {want} input it must be {want}."
IN_PLACE = (
    "Your forward changed the state (h, c) it was given in place ({case}, step {t}): after the "
    "call, the caller's previous h or c holds new values. Compute new tensors, c = f * c + i * g, "
    "rather than c *= f or c.add_(...): the previous step's results must stay as they were, and "
    "autograd needs them for the backward pass."
)
IN_PLACE_ERROR = (
    "\nThis error comes from changing a tensor in place (c *= f, c.add_(...)) that autograd "
    "still needs: compute new tensors instead, c = f * c + i * g."
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


# --------------------------------------------------------------------- the truth and mistakes


def make_weights(sizes, seed: int, dtype=torch.float32) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return {
        name: p.detach().to(dtype)
        for name, p in zip(PARAMETERS, nn.LSTMCell(*sizes).parameters(), strict=True)
    }


def torch_cell(weights: dict, sizes) -> nn.LSTMCell:
    """nn.LSTMCell carrying `weights`: the ground truth."""
    cell = nn.LSTMCell(*sizes).to(weights["weight_ih"].dtype)
    with torch.no_grad():
        for name in PARAMETERS:
            getattr(cell, name).copy_(weights[name])
    return cell


def truth(weights, sizes, xs, state):
    """What nn.LSTMCell gives at each step: lists of h and c."""
    cell, hs, cs = torch_cell(weights, sizes), [], []
    with torch.no_grad():
        for x in xs:
            state = cell(x) if state is None else cell(x, tuple(state))
            hs.append(state[0])
            cs.append(state[1])
    return hs, cs


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


MISTAKES = {
    **{
        f"order_{''.join(p)}": {"order": "".join(p)}
        for p in itertools.permutations("ifgo")
        if p != tuple("ifgo")
    },
    "activations_swapped": {"gates": torch.tanh, "candidate": torch.sigmoid},
    "sigmoid_candidate": {"candidate": torch.sigmoid},
    "tanh_gates": {"gates": torch.tanh},
    "no_tanh_on_cell": {"squash": None},
    "sigmoid_on_cell": {"squash": torch.sigmoid},
    "cell_from_h": {"cell_from_h": True},
    "no_bias_ih": {"bias_ih": False},
    "no_bias_hh": {"bias_hh": False},
}


def replay(weights, sizes, xs, state, mistake: dict):
    """The mistake unrolled over `xs`: lists of h and c."""
    batch = xs[0].shape[:-1]
    h, c = state if state is not None else (xs[0].new_zeros(*batch, sizes[1]),) * 2
    hs, cs = [], []
    for x in xs:
        h, c = variant(weights, x, h, c, **mistake)
        hs.append(h)
        cs.append(c)
    return hs, cs


def cause(reply, weights, sizes, xs, state, atol, rtol) -> str | None:
    """The message of the usual mistake that gives exactly the learner's h and c, if any."""
    for name, mistake in MISTAKES.items():
        hs, cs = replay(weights, sizes, xs, state, mistake)
        if all(
            close(a, b, atol, rtol)
            for a, b in zip([*reply["h"], *reply["c"]], [*hs, *cs], strict=True)
        ):
            if name.startswith("order_"):
                order = ", ".join(mistake["order"])
                return GATE_ORDER.format(order=order, unpack=order)
            return CAUSES[name]
    return None


# --------------------------------------------------------------------- the source and the runner


def forbidden_uses(source: str) -> list[tuple[str, int, str]]:
    """Where the source reaches for torch's LSTM code: (what, line, code) for each use. A
    comparison with nn.LSTMCell under `if __name__ == "__main__":` is the learner's own test,
    not the cell, and is left alone."""
    tree = ast.parse(source)
    lines = source.splitlines()
    names = {"LSTM", "LSTMCell", "_VF", *FUSED}
    aside = {id(n) for block in _main_blocks(tree) for s in block for n in ast.walk(s)}
    torch_names: set[str] = set()  # local names bound to torch or one of its modules
    imported: dict[str, str] = {}  # local name -> the forbidden torch name it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "torch":
                    torch_names.add(alias.asname or "torch")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            for alias in node.names:
                local = alias.asname or alias.name
                if alias.name in names:
                    imported[local] = f"{node.module}.{alias.name}"
                else:
                    torch_names.add(local)
    found = []
    for node in ast.walk(tree):
        if id(node) in aside:
            continue
        what = None
        if isinstance(node, ast.Attribute) and node.attr in names:
            chain, base = [node.attr], node.value
            while isinstance(base, ast.Attribute):
                chain.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in torch_names | imported.keys():
                what = ".".join([base.id, *reversed(chain)])
        elif isinstance(node, ast.Name) and node.id in imported:
            what = imported[node.id]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in names
        ):
            what = f"getattr(..., {node.args[1].value!r})"
        if what:
            code = lines[node.lineno - 1].strip() if 0 < node.lineno <= len(lines) else ""
            found.append((what, node.lineno, code))
    longest: dict[int, tuple[str, int, str]] = {}  # per line, the most specific name
    for use in found:
        if use[1] not in longest or len(use[0]) > len(longest[use[1]][0]):
            longest[use[1]] = use
    return [longest[line] for line in sorted(longest)]


def _main_blocks(tree: ast.Module) -> list[list[ast.stmt]]:
    """The bodies of `if __name__ == "__main__":` at the top level of the module."""
    blocks = []
    for node in tree.body:
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "__name__"
        ):
            blocks.append(node.body)
    return blocks


def runtime_problem(reply: dict, file: str) -> str | None:
    used = [*reply.get("builtin", []), *reply.get("used", [])]
    if used:
        return NOT_OWN.format(file=file, what=" and ".join(used), where=" when it runs")
    return None


def run(learner, weights, xs, state=None, **options) -> dict:
    """The learner's cell over `xs`; fail with a cause on any error or forbidden use."""
    reply = learner.probe(
        "lstm_cell.steps",
        "Your LSTMCell",
        sizes=list(SIZES),
        weights=weights,
        xs=xs,
        state=state,
        **options,
    )
    if "error" in reply:
        fail(explain_error(reply["error"], xs[0], state, options.get("device", "cpu")))
    if problem := runtime_problem(reply, learner.path.name):
        fail(problem)
    if "not_a_pair" in reply:
        got = reply["not_a_pair"]
        what = (
            f"a {got['not_a_tensor']} ({got.get('repr', '?')})"
            if type(got) is dict
            else f"a tensor of shape {shape(got)}"
            if type(got) is torch.Tensor
            else type(got).__name__
        )
        fail(NOT_A_PAIR.format(what=what))
    return reply


def explain_error(error: dict, x, state, device: str) -> str:
    text = error.get("message", "")
    if todo_left(error):
        return TODO_LEFT.format(
            what="forward" if "__init__" not in error.get("traceback", "") else "__init__"
        )
    message = raised(error, "Your LSTMCell")
    if state is None and ("NoneType" in text or "state" in text):
        return message + NO_STATE_ERROR
    if x.dtype != torch.float32 and ("dtype" in text.lower() or "scalar type" in text):
        return message + DTYPE.format(dtype=str(x.dtype).replace("torch.", ""))
    if "in-place" in text or "inplace" in text:
        return message + IN_PLACE_ERROR
    if device != "cpu" and "device" in text.lower():
        return message + DEVICE.format(device=device)
    return message


def judge(reply, weights, xs, state, case: str, sizes=SIZES, atol=1e-5, rtol=1e-4) -> None:
    """Fail with the most specific message unless h and c at every step equal nn.LSTMCell's."""
    hs, cs = truth(weights, sizes, xs, state)
    for which, got, want in (("h", reply["h"], hs), ("c", reply["c"], cs)):
        for value, expected in zip(got, want, strict=True):
            if problem := not_a_tensor(value, f"Your forward's {which}"):
                fail(problem)
            if value.shape != expected.shape:
                fail(
                    WRONG_SHAPE.format(
                        which=which,
                        case=case,
                        got=shape(value),
                        want=shape(expected),
                        hint=UNBATCHED if xs[0].dim() == 1 else "",
                    )
                )
            if value.dtype != expected.dtype:
                fail(
                    WRONG_DTYPE.format(which=which, case=case, got=value.dtype, want=expected.dtype)
                )
    for which, got, want in (("h", reply["h"], hs), ("c", reply["c"], cs)):
        if not all(close(a, b, atol, rtol) for a, b in zip(got, want, strict=True)):
            if found := cause(reply, weights, sizes, xs, state, atol, rtol):
                fail(found)
            diff = max(max_difference(a, b) for a, b in zip(got, want, strict=True))
            fail(WRONG_VALUES.format(which=which, case=case, shape=shape(got[0]), diff=diff))
    if reply.get("mutated"):
        fail(MUTATED.format(case=case))
    if reply.get("state_changed_at") is not None:
        fail(IN_PLACE.format(case=case, t=reply["state_changed_at"] + 1))


def dims(sizes) -> str:
    """(16, 5) or (16,), as a shape is written."""
    return f"({', '.join(str(n) for n in sizes)}{',' if len(sizes) == 1 else ''})"


def random_inputs(seed: int, steps: int = 1, batch=(BATCH,), dtype=torch.float32, sizes=SIZES):
    torch.manual_seed(seed)
    xs = [torch.randn(*batch, sizes[0], dtype=dtype) for _ in range(steps)]
    state = [torch.randn(*batch, sizes[1], dtype=dtype) for _ in range(2)]
    return xs, state


# --------------------------------------------------------------------- checks


@points(0)
def test_imports(learner):
    """Your file imports and defines LSTMCell"""
    require_names(learner, "LSTMCell")


@points(1)
@depends("test_imports")
def test_parameters(learner):
    """LSTMCell has weight_ih, weight_hh, bias_ih and bias_hh of PyTorch's shapes"""
    for sizes in (SIZES, (3, 7), (1, 2)):
        i, h = sizes
        reply = learner.probe("lstm_cell.build", f"LSTMCell{sizes}", sizes=list(sizes))
        if "error" in reply:
            todo = todo_left(reply["error"])
            fail(
                TODO_LEFT.format(what="__init__")
                if todo
                else raised(reply["error"], f"LSTMCell{sizes}")
            )
        if "not_a_module" in reply:
            fail(NOT_A_MODULE.format(kind=reply["not_a_module"]))
        found = dict((name, tuple(s)) for name, s in reply["parameters"])
        wanted = {
            "weight_ih": (4 * h, i),
            "weight_hh": (4 * h, h),
            "bias_ih": (4 * h,),
            "bias_hh": (4 * h,),
        }
        for name, want in wanted.items():
            if name not in found:
                fail(
                    MISSING_PARAMETER.format(
                        sizes=sizes, name=name, names=", ".join(found) or "none"
                    )
                )
            if found[name] != want:
                fail(
                    PARAMETER_SHAPE.format(
                        sizes=sizes, name=name, got=dims(found[name]), want=dims(want)
                    )
                )
        if extra := [name for name in found if name not in wanted]:
            fail(EXTRA_PARAMETERS.format(sizes=sizes, names=", ".join(extra)))


@points(1)
@depends("test_parameters")
def test_builds_its_own_gates(learner):
    """The cell computes its own gates: no nn.LSTM, nn.LSTMCell or fused LSTM function"""
    source = learner.path.read_text("utf-8")
    if uses := forbidden_uses(source):
        what, line, code = uses[0]
        fail(NOT_OWN.format(file=learner.path.name, what=what, where=f" at line {line} (`{code}`)"))
    reply = learner.probe("lstm_cell.build", "LSTMCell", sizes=list(SIZES))
    if builtin := reply.get("builtin"):
        fail(
            NOT_OWN.format(
                file=learner.path.name, what=" and ".join(builtin), where=" inside LSTMCell"
            )
        )
    xs, state = random_inputs(0)
    reply = learner.probe(  # one step, with the tripwire on
        "lstm_cell.steps",
        "Your LSTMCell",
        sizes=list(SIZES),
        weights=make_weights(SIZES, 0),
        xs=xs,
        state=state,
    )
    if problem := runtime_problem(reply, learner.path.name):
        fail(problem)
    if "error" in reply:  # the rule cannot be confirmed without running the cell
        fail(explain_error(reply["error"], xs[0], state, "cpu"))


@points(2)
@depends("test_builds_its_own_gates")
def test_matches_lstm_cell(on_device):
    """One step from a given state equals nn.LSTMCell's with the same weights"""
    weights = make_weights(SIZES, 1)
    xs, state = random_inputs(2)
    reply = run(on_device, weights, xs, state, device=on_device.device)
    tolerance = (1e-4, 1e-3) if on_device.device == "cuda" else (1e-5, 1e-4)
    judge(reply, weights, xs, state, f"a batch of {BATCH} with a given state", SIZES, *tolerance)


@points(2)
@depends("test_builds_its_own_gates")
def test_gradients(learner):
    """Gradients for the four parameters, x, h and c equal nn.LSTMCell's"""
    weights = make_weights(SIZES, 3)
    xs, state = random_inputs(4)
    upstream = [torch.randn(BATCH, SIZES[1]) for _ in range(2)]
    reply = run(learner, weights, xs, state, upstream=upstream)
    judge(reply, weights, xs, state, f"a batch of {BATCH}")
    grads = reply.get("grads")
    if grads is None or grads.get("detached"):
        fail(NO_GRAD)
    cell = torch_cell(weights, SIZES)
    x = xs[0].clone().requires_grad_()
    h0, c0 = (s.clone().requires_grad_() for s in state)
    h, c = cell(x, (h0, c0))
    ((h * upstream[0]).sum() + (c * upstream[1]).sum()).backward()
    expected = {
        **{n: getattr(cell, n).grad for n in PARAMETERS},
        "x0": x.grad,
        "h0": h0.grad,
        "c0": c0.grad,
    }
    shown = {"x0": "x", "h0": "the state's h", "c0": "the state's c"}
    for name, want in expected.items():
        got = grads.get(name)
        label = shown.get(name, name)
        if got is None:
            why = (
                "is it replaced by a new tensor, detached, or not used?"
                if name in shown
                else "is it used in forward?"
            )
            fail(MISSING_GRAD.format(name=label, why=why))
        if not close(got, want, 1e-5, 1e-4):
            fail(WRONG_GRAD.format(name=label, diff=max_difference(got, want)))


@points(2)
@depends("test_builds_its_own_gates")
def test_gates_mean_what_they_say(learner):
    """An open forget gate with a closed input gate keeps c; a closed forget gate erases it"""
    dtype = torch.float64
    weights = make_weights(SIZES, 5, dtype)
    h = SIZES[1]
    rows = {"i": slice(0, h), "f": slice(h, 2 * h), "o": slice(3 * h, 4 * h)}
    for part in rows.values():  # the gates read only their biases; the candidate reads x and h
        weights["weight_ih"][part] = 0.0
        weights["weight_hh"][part] = 0.0
        weights["bias_ih"][part] = 0.0
        weights["bias_hh"][part] = 0.0
    xs, state = random_inputs(6, dtype=dtype)

    keep = {k: v.clone() for k, v in weights.items()}
    keep["bias_ih"][rows["i"]], keep["bias_ih"][rows["f"]] = -OPEN, OPEN
    reply = run(learner, keep, xs, state, dtype="float64")
    c = reply["c"][0]
    if problem := not_a_tensor(c, "Your forward's c"):
        fail(problem)
    if not close(c, state[1], 1e-9, 1e-9):
        diff = max_difference(c, state[1]) if c.shape == state[1].shape else float("nan")
        found = cause(reply, keep, SIZES, xs, state, 1e-9, 1e-7)
        fail(KEEPS.format(diff=diff) + (f"\n{found}" if found else ""))
    judge(reply, keep, xs, state, "an open forget gate", atol=1e-10, rtol=1e-8)

    erase = {k: v.clone() for k, v in weights.items()}
    erase["bias_ih"][rows["i"]], erase["bias_ih"][rows["f"]] = OPEN, -OPEN
    other = [state[0], torch.randn_like(state[1]) * 3]  # another old cell state, the same h
    replies = [run(learner, erase, xs, s, dtype="float64") for s in (state, other)]
    first, second = replies[0]["c"][0], replies[1]["c"][0]
    if not close(first, second, 1e-9, 1e-9):
        found = cause(replies[0], erase, SIZES, xs, state, 1e-9, 1e-7)
        how = "changes when only c_prev changes"
        fail(ERASES.format(how=how) + (f"\n{found}" if found else ""))
    judge(replies[0], erase, xs, state, "a closed forget gate", atol=1e-10, rtol=1e-8)


@points(1)
@depends("test_builds_its_own_gates")
def test_unrolled(learner):
    """Unrolled over 6 steps, the cell equals a one-layer nn.LSTM"""
    weights = make_weights(SIZES, 7)
    steps = 6
    xs, state = random_inputs(8, steps=steps)
    reply = run(learner, weights, xs, state)
    lstm = nn.LSTM(*SIZES)
    with torch.no_grad():
        for name in PARAMETERS:
            getattr(lstm, f"{name}_l0").copy_(weights[name])
        out, (_, c_n) = lstm(torch.stack(xs), (state[0][None], state[1][None]))  # out (T, B, H)
    judge_first = {
        "h": reply["h"][:1],
        "c": reply["c"][:1],
        "state_changed_at": reply.get("state_changed_at"),
    }
    judge(judge_first, weights, xs[:1], state, "the first step")
    for which, got, want in (("h", reply["h"], list(out)), ("c", reply["c"][-1:], [c_n[0]])):
        for t, (value, expected) in enumerate(zip(got, want, strict=True)):
            if problem := not_a_tensor(value, f"Your forward's {which}"):
                fail(problem)
            if not close(value, expected, 1e-5, 1e-4):
                step = t + 1 if which == "h" else steps
                fail(
                    UNROLLED.format(
                        steps=steps, which=which, t=step, diff=max_difference(value, expected)
                    )
                )


@points(1)
@depends("test_builds_its_own_gates")
def test_default_state(on_device):
    """Without a state, the cell starts from zeros on x's device"""
    weights = make_weights(SIZES, 9)
    xs, _ = random_inputs(10)
    reply = run(on_device, weights, xs, None, device=on_device.device)
    hs, cs = truth(weights, SIZES, xs, None)
    tolerance = (1e-4, 1e-3) if on_device.device == "cuda" else (1e-5, 1e-4)
    for which, got, want in (("h", reply["h"][0], hs[0]), ("c", reply["c"][0], cs[0])):
        if problem := not_a_tensor(got, f"Your forward's {which}"):
            fail(problem)
        if got.shape != want.shape:
            fail(
                WRONG_SHAPE.format(
                    which=which,
                    case="cell(x) without a state",
                    got=shape(got),
                    want=shape(want),
                    hint="",
                )
            )
        if not close(got, want, *tolerance):
            fail(DEFAULT_STATE.format(which=which, diff=max_difference(got, want)))


@points(1)
@depends("test_builds_its_own_gates")
def test_float64(learner):
    """float64 input and weights give float64 h and c, with and without a state"""
    weights = make_weights(SIZES, 11, torch.float64)
    xs, state = random_inputs(12, dtype=torch.float64)
    for given in (None, state):
        case = "float64 input" + (" with a state" if given else " without a state")
        reply = run(learner, weights, xs, given, dtype="float64")
        judge(reply, weights, xs, given, case, atol=1e-10, rtol=1e-8)


@points(1)
@depends("test_builds_its_own_gates")
def test_unbatched(learner):
    """One sample of shape (input_size,) gives h and c of shape (hidden_size,)"""
    weights = make_weights(SIZES, 13)
    xs, state = random_inputs(14, batch=())
    for given in (None, state):
        case = f"one sample of shape {shape(xs[0])}" + (" with a state" if given else "")
        judge(run(learner, weights, xs, given), weights, xs, given, case)
