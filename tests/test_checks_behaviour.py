"""How the checks behave beyond what the corpus proves: the reading of a source for torch's
LSTM code, the error for a series too short to window, forecasts that read past their history,
and the vanishing-gradient experiment that exercise 5, the lesson's figure and the checker
share."""

from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path

import pytest

from grader.analysis import torch_uses
from tests.helpers import REPO, failed_messages

torch = pytest.importorskip("torch")
nn = torch.nn


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


forecasting = load(REPO / "solutions/04_forecasting/forecasting.py", "forecasting_reference")
gradients = load(REPO / "solutions/05_vanishing_gradients/gradients.py", "gradients_reference")
figures_script = load(REPO / "scripts/figures.py", "figures_under_test")


@pytest.fixture(scope="module")
def checks(pytestconfig):
    """Load a check module here (its @points and @depends marks are the grader's own)."""
    for marker in ("points(n): what a check is worth", "depends(*names): checks first"):
        pytestconfig.addinivalue_line("markers", marker)
    return lambda name: load(REPO / "grader" / "checks" / f"check_{name}.py", f"{name}_checks")


def check(result, name: str):
    (found,) = [c for c in result.checks if c.name.split("[")[0] == name and c.device != "cuda"]
    return found


# --------------------------------------------------------------------- exercise 3


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("import torch.nn as nn\nclass LSTMCell(nn.LSTMCell): pass", "nn.LSTMCell"),
        ("import torch\ny = torch.nn.LSTM(3, 4)", "torch.nn.LSTM"),
        ("from torch.nn import LSTMCell as Cell\ncell = Cell(3, 4)", "torch.nn.LSTMCell"),
        ("import torch\nh, c = torch._VF.lstm_cell(x, s, w, u)", "torch._VF.lstm_cell"),
        ("from torch import _VF\nh, c = _VF.lstm_cell(x, s, w, u)", "_VF.lstm_cell"),
        ("import torch as t\nf = getattr(t, 'lstm_cell')", "getattr(..., 'lstm_cell')"),
        ("import torch.nn.functional as F\ny = F.lstm(x)", "F.lstm"),
    ],
)
def test_the_source_check_finds_torchs_lstm_code(checks, source, what):
    uses = torch_uses(source, checks("03_lstm_cell").FORBIDDEN)
    assert uses and uses[0].what == what and uses[0].line == source.count("\n") + 1, uses


def test_the_source_check_leaves_the_learners_own_code_alone(checks):
    source = textwrap.dedent(
        '''
        """Unlike nn.LSTMCell, this cell computes its gates itself (no torch.lstm_cell)."""
        import torch
        import torch.nn as nn

        class LSTMCell(nn.Module):
            def __init__(self, input_size, hidden_size):
                super().__init__()
                self.lstm = nn.Linear(input_size, 4 * hidden_size)  # a name, not nn.LSTM
                self.lstm_cell = None

        if __name__ == "__main__":
            print(LSTMCell(3, 4), nn.LSTMCell(3, 4), torch.lstm_cell)
        '''
    )
    assert torch_uses(source, checks("03_lstm_cell").FORBIDDEN) == []


def with_fused_call(call: str) -> str:
    """The reference cell with its last two formulas replaced by `call`, giving h and c."""
    source = (REPO / "solutions/03_lstm_cell/lstm_cell.py").read_text()
    source = source.replace("        c = f * c + i * g\n", f"        {call}\n")
    return source.replace("        h = o * torch.tanh(c)\n", "")


def test_torchs_lstm_code_is_named_as_advice_worth_no_points(grade_source):
    source = with_fused_call("h, c = torch.lstm_cell(x, (h, c), *self.parameters())")
    result = grade_source("03_lstm_cell", source)
    rule = check(result, "test_builds_its_own_gates")
    line = source.splitlines().index(next(s for s in source.splitlines() if "lstm_cell(" in s))
    assert rule.state == "failed" and rule.max_score == 0
    assert f"torch.lstm_cell at line {line + 1}" in rule.message
    assert "build the gates yourself" in rule.message and "advice" in rule.message
    assert check(result, "test_matches_lstm_cell").state == "passed"  # it blocks nothing
    assert result.score == result.max_score == 12


def test_code_can_hide_torchs_lstm_code_which_is_why_the_rule_is_advice(grade_source):
    hidden = (
        "with torch._C.DisableTorchFunction():\n"
        "            h, c = getattr(torch, 'lstm' + '_cell')(x, (h, c), *self.parameters())"
    )
    result = grade_source("03_lstm_cell", with_fused_call(hidden))
    assert check(result, "test_builds_its_own_gates").state == "passed"  # not seen: advice
    assert result.score == result.max_score  # and it never could be worth points


# --------------------------------------------------------------------- exercise 4


@pytest.mark.parametrize(("T", "window"), [(20, 20), (5, 8), (0, 1)])
def test_a_series_no_longer_than_the_window_is_a_clear_error(T, window):
    with pytest.raises(ValueError, match=rf"{T} values .* at least {window + 1}"):
        forecasting.make_windows(torch.arange(float(T)), window)


def test_one_value_after_the_window_makes_one_window():
    inputs, targets = forecasting.make_windows(torch.arange(21.0), 20)
    assert inputs.shape == (1, 20, 1) and targets.shape == (1, 1)
    assert inputs[0, :, 0].tolist() == list(range(20)) and targets.item() == 20


def without_training(source: str) -> str:
    """The source with a fit that fails at once, so that grading it takes no training time."""
    before, rest = source.split("def fit(")
    after = rest[rest.index("def forecast(") :]
    quick = "def fit(series, window=20, epochs=1, seed=0):\n    raise NotImplementedError\n\n\n"
    return before + quick + after


def test_an_error_other_than_value_error_is_named(grade_source):
    source = (REPO / "solutions/04_forecasting/forecasting.py").read_text()
    start = source.index("    if len(series) <= window:")
    end = source.index("    T = len(series)")
    source = source[:start] + "    assert len(series) > window\n" + source[end:]
    result = grade_source("04_forecasting", without_training(source))
    short = check(result, "test_too_short")
    assert short.state == "failed"
    assert "raised AssertionError" in short.message
    assert "raise ValueError yourself" in short.message


def test_a_forecast_that_reads_past_its_history_is_caught(grade_source):
    source = (REPO / "solutions/04_forecasting/forecasting.py").read_text()
    source = without_training(source).split("def forecast(")[0] + textwrap.dedent(
        """
        def forecast(model, history, steps, window=20):
            full = history if history._base is None else history._base  # the whole series
            n = len(history)
            with torch.no_grad():
                return torch.cat([
                    model(full[n - window + k : n + k].reshape(1, window, 1)).view(1)
                    for k in range(steps)
                ])
        """
    )
    result = grade_source("04_forecasting", source)
    ahead = check(result, "test_forecast_feeds_back")
    assert ahead.state == "failed" and "reads past the end of the history" in ahead.message
    assert check(result, "test_forecast_leaves_history").state == "blocked"


def test_the_statement_states_the_budget_the_checks_use(checks):
    readme = (REPO / "exercises/04_forecasting/README.md").read_text()
    check_04 = checks("04_forecasting")
    assert f"**{check_04.FIT_SECONDS:g} seconds**" in readme
    assert f"within {check_04.REFERENCE_FACTOR:g}" in readme


# --------------------------------------------------------------------- exercise 5


def test_the_figure_the_checker_and_the_exercise_share_one_implementation(module):
    assert figures_script.SOLUTION.resolve() == module.exercise("05_vanishing_gradients").solution


def test_the_committed_figure_shows_the_vanishing_gradient():
    series = json.loads(figures_script.OUTPUT.read_text("utf-8"))["series"]
    rnn = series["tanh RNN"]  # index = distance from the last step
    lstm = series["LSTM, forget bias 1"]
    assert len(rnn) == 100 and rnn[99] < 1e-20 * rnn[0]  # over 20 orders of magnitude
    assert lstm[99] > 1e10 * rnn[99]


def test_the_solution_shows_it_on_one_sequence():
    torch.manual_seed(0)
    rnn = nn.RNN(8, 32, batch_first=True).double()
    lstm = figures_script.lstm_with_forget_bias(1.0).double()
    x = torch.randn(1, 100, 8, dtype=torch.float64)
    rnn_norms = gradients.input_gradient_norms(rnn, x)
    lstm_norms = gradients.input_gradient_norms(lstm, x)
    assert rnn_norms.shape == lstm_norms.shape == (100,)
    assert rnn_norms[0] < 1e-20 * rnn_norms[-1]  # step 0 is 99 steps from the output
    assert lstm_norms[0] > 1e10 * rnn_norms[0]


def test_the_readme_numbers_come_from_the_solution():
    torch.manual_seed(0)
    x = torch.randn(1, 100, 8, dtype=torch.float64)
    rnn = nn.RNN(8, 32, batch_first=True).double()
    norms = gradients.input_gradient_norms(rnn, x)
    assert 1e-28 < norms[0] < 1e-26  # "around 10^-27 at a distance of 99 steps"
    assert "around 10^-27" in (REPO / "exercises/05_vanishing_gradients/README.md").read_text()


def test_leaving_the_models_gradients_dirty_is_named(grade_source):
    source = "import torch\n\n\ndef input_gradient_norms(model, inputs):\n"
    source += "    x = inputs.detach().requires_grad_()\n"
    source += "    out, _ = model(x)\n    out[:, -1].sum().backward()\n"
    source += "    return torch.linalg.vector_norm(x.grad[0], dim=-1)\n"
    result = grade_source("05_vanishing_gradients", source)
    assert result.score == 6, failed_messages(result)
    assert "torch.autograd.grad" in check(result, "test_leaves_model_as_found").message


# --------------------------------------------------------------------- points for solving

ZERO_STUBS = {  # the right names, layers and shapes, and zeros for every result
    "01_lstm_network": """
import torch
import torch.nn as nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        return x.new_zeros(*x.shape[:-2], self.fc.out_features)
""",
    "02_training_step": """
def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    model(inputs)
    return 0.0
""",
    "03_lstm_cell": """
import torch
import torch.nn as nn


class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.weight_ih = nn.Parameter(torch.zeros(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.zeros(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.zeros(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.zeros(4 * hidden_size))

    def forward(self, x, state=None):
        zeros = x.new_zeros(*x.shape[:-1], self.weight_hh.shape[1])
        return zeros, zeros.clone()
""",
    "04_forecasting": """
import torch
import torch.nn as nn


class Zeros(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 4, batch_first=True)

    def forward(self, x):
        return x.new_zeros(x.shape[0], 1)


def make_windows(series, window):
    if len(series) <= window:
        raise ValueError(f"a series of {len(series)} values is too short for window={window}")
    n = len(series) - window
    return series.new_zeros(n, window, 1), series.new_zeros(n, 1)


def fit(series, window=20, epochs=100, seed=0):
    torch.manual_seed(seed)
    return Zeros()


def forecast(model, history, steps, window=20):
    return history.new_zeros(steps)
""",
    "05_vanishing_gradients": """
def input_gradient_norms(model, inputs):
    return inputs.new_zeros(inputs.shape[1])
""",
}


@pytest.mark.parametrize("exercise", sorted(ZERO_STUBS))
def test_code_that_returns_zeros_scores_nothing(grade_source, exercise):
    result = grade_source(exercise, ZERO_STUBS[exercise])
    passed = [c.title for c in result.checks if c.state == "passed" and c.max_score]
    assert result.score == 0, passed


def test_a_step_that_never_steps_and_returns_nan_does_not_return_the_loss(grade_source):
    source = "def train_step(model, inputs, targets, criterion, optimizer):\n"
    source += "    model.train()\n    model(inputs)\n    return float('nan')\n"
    result = grade_source("02_training_step", source)
    # the loss counts only for a step that trains: this one is told why it does not
    assert check(result, "test_returns_the_loss").state == "blocked"
    assert "never calls loss.backward() or optimizer.step()" in (
        check(result, "test_sgd_momentum_mse").message
    )
    assert result.score == 0


def test_the_returned_loss_counts_only_for_a_step_that_trains(grade_source):
    path = REPO / "tests/corpus/02_training_step/mistakes/zero_grad_after_step/training.py"
    result = grade_source("02_training_step", path.read_text())
    assert check(result, "test_sgd_momentum_mse").state == "failed"
    assert check(result, "test_returns_the_loss").state == "blocked"


def test_a_step_that_does_not_train_earns_nothing_for_its_loss(grade_source):
    source = "def train_step(model, inputs, targets, criterion, optimizer):\n"
    source += "    model.train()\n    return criterion(model(inputs), targets).item()\n"
    result = grade_source("02_training_step", source)
    assert result.score == 0


def test_a_forecaster_cannot_read_the_next_windows_target(grade_source):
    source = (REPO / "solutions/04_forecasting/forecasting.py").read_text()
    cheat = textwrap.dedent(
        """
        class NextRow(nn.Module):  # row i + 1 of a batch of consecutive windows ends at target i
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(1, 4, batch_first=True)

            def forward(self, x):
                return torch.cat([x[1:, -1], x[-1:, -1]])


        def fit(series, window=20, epochs=100, seed=0):
            torch.manual_seed(seed)
            return NextRow()


        """
    )
    before, rest = source.split("def fit(")
    source = before + cheat + rest[rest.index("def forecast(") :]
    result = grade_source("04_forecasting", source)
    learns = check(result, "test_fit_learns")
    assert learns.state == "failed" and "never called loss.backward()" in learns.message
    assert check(result, "test_fit_deterministic").state == "blocked"


# --------------------------------------------------------------------- messages


def test_a_long_message_is_cut_at_a_sentence_and_kept_whole_for_v():
    from grader.checking import MESSAGE_CAP, MORE, CheckFailure, fail

    long = " ".join(f"Sentence {n} says something." for n in range(100))
    with pytest.raises(CheckFailure) as failure:
        fail(long, "the traceback")
    message, detail = failure.value.message, failure.value.detail
    assert len(message) <= MESSAGE_CAP and message.endswith("." + MORE)
    assert detail.startswith(long) and detail.endswith("the traceback")


@pytest.mark.parametrize(
    ("error", "says"),
    [
        ({"type": "IndexError", "message": "too many indices for tensor of dimension 2"},
         "only 2 dimensions"),
        ({"type": "RuntimeError",
          "message": "mat1 and mat2 shapes cannot be multiplied (3x5 and 16x5)"},
         "inner sizes, 5 and 16"),
        ({"type": "NameError", "message": "name 'hiden' is not defined"}, "Nothing named hiden"),
        ({"type": "AttributeError", "message": "module 'torch.nn' has no attribute 'LTSM'"},
         "torch.nn has nothing named LTSM: check the spelling"),
        ({"type": "TypeError", "message": "tuple indices must be integers or slices, not tuple"},
         "A tuple was indexed like a tensor"),
        ({"type": "KeyError", "message": "'x'"}, "a key it does not hold"),
        ({"type": "OddError", "message": "?"}, "with OddError"),
    ],
)  # fmt: skip
def test_an_exception_is_explained_in_plain_words(error, says):
    from grader.checking.errors import explain

    assert says in explain(error)


def test_an_exception_shows_its_first_line_and_v_shows_the_traceback(grade_source):
    source = "def train_step(*args):\n    raise ValueError('a\\n' + 'b' * 900)\n"
    result = grade_source("02_training_step", source)
    first = check(result, "test_sgd_momentum_mse")
    assert "raised ValueError at line 2" in first.message and "bbbb" not in first.message
    assert "its message says which" in first.message
    assert "Traceback" in first.detail and "b" * 900 in first.detail


# --------------------------------------------------------------------- exercise 2, norms


@pytest.mark.parametrize(
    "norms",
    [None, "x", [["x"]], [[float("nan")], [float("inf")], [True]], [[1.0]] * 50, [{"a": 1}]],
)
def test_clip_norms_read_only_finite_numbers(checks, norms):
    """The norms a step saw come from the runner (the learner's process): whatever it sends,
    the clipping replays try at most one value a step, all finite."""
    ex2 = checks("02_training_step")
    per_step = ex2.step_norms({"norms": norms})
    assert len(per_step) == ex2.STEPS
    assert all(type(n) is float and n == n and abs(n) != float("inf") for s in per_step for n in s)
    assert len(ex2.clip_norms({"norms": norms})) <= ex2.STEPS


# --------------------------------------------------------------------- claims need evidence

LEARNER = "/learner/variable_length.py"


def _traceback(*files: str) -> str:
    frames = "".join(f'  File "{f}", line 3, in forward\n    x\n' for f in files)
    return f"Traceback (most recent call last):\n{frames}RuntimeError: boom\n"


def test_an_error_from_inside_a_library_call_says_so_and_one_on_the_line_does_not():
    from grader.checking.errors import IN_LIBRARY, explain, in_library

    error = {"type": "RuntimeError", "message": "start (12) + length (2) exceeds", "line": 21}
    inside = error | {"traceback": _traceback(LEARNER, "/torch/nn/modules/rnn.py")}
    own = error | {"traceback": _traceback("/torch/x.py", LEARNER)}
    assert in_library(inside, LEARNER) and not in_library(own, LEARNER)
    assert explain(inside, LEARNER) == IN_LIBRARY.format(kind="RuntimeError")
    assert "on this line; its message says why" in explain(own, LEARNER)
    assert "on this line; its message says why" in explain(inside)  # no file: nothing claimed
    assert not in_library(inside | {"line": None}, LEARNER)  # no line of the learner's at all


@pytest.mark.parametrize(
    ("message", "two_dtypes"),
    [
        ("expected target dtype to be Long or Byte, but got Float", False),
        ("masked_fill_ only supports boolean masks, but got mask with dtype float", False),
        ("mat1 and mat2 must have the same dtype, but got Float and Double", True),
        ("expected m1 and m2 to have the same dtype, but got: float != double", True),
        ("result type Float can't be cast to the desired output type Long", True),
        ("expected scalar type Double but found Float", True),
    ],
)
def test_only_an_error_between_two_dtypes_is_called_one(message, two_dtypes):
    from grader.checking.errors import explain

    said = explain({"type": "RuntimeError", "message": message})
    assert ("Tensors of two dtypes met" in said) is two_dtypes, said
    assert "dtype" in said


def _arg(role: str, shape=(5,), dtype="int64") -> dict:
    return {"shape": list(shape), "dtype": dtype, "role": role}


@pytest.mark.parametrize(
    ("given", "says", "not_said"),
    [
        ([_arg("targets"), _arg("output", (5, 4), "float32")], "targets first", "It takes"),
        (
            [_arg("targets converted", (5,), "float32"), _arg("output", (5, 4), "float32")],
            "targets first",
            "It takes",
        ),
        (
            [_arg("output", (5, 4), "float32"), _arg("targets converted", (5,), "float32")],
            "(the targets converted to float32)",
            "targets first",
        ),
        ([_arg("other", (5, 4), "float32"), _arg("targets")], "(the targets as given)", "first"),
    ],
)
def test_the_loss_hint_says_swapped_only_when_the_runner_saw_it(checks, given, says, not_said):
    ex2 = checks("02_training_step")
    recipe = ex2.RECIPES["adam_ce"]
    hint = ex2.loss_hint(recipe, given, torch.zeros(5, dtype=torch.long))
    assert says in hint and not_said not in hint, hint
    assert "CrossEntropyLoss" in hint


@pytest.mark.parametrize(
    "given",
    [None, "x", [], [_arg("output")], [{"shape": "x"}, _arg("targets")], [_arg("?"), _arg("?")]],
)
def test_the_loss_hint_says_nothing_of_what_it_did_not_see(checks, given):
    """An error outside the criterion, or a reply the runner forged, gives no loss hint."""
    ex2 = checks("02_training_step")
    assert ex2.loss_hint(ex2.RECIPES["adam_ce"], given, torch.zeros(5)) == ""


@pytest.mark.parametrize(
    ("calls", "right"),
    [
        (["zero_grad", "forward", "loss", "backward", "step"], True),
        (["forward", "zero_grad", "loss", "backward", "step"], True),
        (["forward", "loss", "backward", "step"], False),
        (["zero_grad", "forward", "loss", "backward", "zero_grad", "step"], False),
        (["zero_grad", "forward", "loss", "step", "backward"], False),
        (["zero_grad", "forward", "loss", "backward", "step", "step"], False),
        (["zero_grad", "backward", "forward", "loss", "step"], False),
    ],
)
def test_a_step_is_said_to_be_in_the_right_order_only_when_it_is(checks, calls, right):
    assert checks("02_training_step").in_right_order(calls) is right


def _packed(**fields) -> dict:
    found = {"line": 21, "code": "p = pack(x, lengths)", "shape": [4, 4, 5]}
    return found | {"batch_first": False, "lengths": [7, 5, 3, 1]} | fields


def test_a_batch_packed_the_wrong_way_round_is_named_at_its_line(checks):
    ex6 = checks("06_variable_length")
    said = ex6.packing_problem([_packed()])
    assert "at line 21 (`p = pack(x, lengths)`)" in said and "of size 4, as time" in said
    assert "lengths go up to 7" in said and "pass batch_first=True" in said
    said = ex6.packing_problem([_packed(batch_first=True, shape=[7, 4, 5], line=None)])
    assert "dimension 1" in said and "at line" not in said and "as you were given it" in said


@pytest.mark.parametrize(
    "packed",
    [
        None,
        "x",
        [_packed(lengths=[4, 3, 2, 1])],  # within the dimension read as time: packing is right
        [_packed(batch_first=1)],
        [_packed(lengths=[])],
        [_packed(shape=[4])],
        [_packed(line="21")],
        [{"batch_first": False}],
    ],
)
def test_a_packing_the_runner_did_not_show_wrong_is_not_named(checks, packed):
    assert checks("06_variable_length").packing_problem(packed) == ""


def test_the_packing_probe_records_the_learners_line_and_keeps_its_own_replacement():
    from torch.nn.utils.rnn import pack_padded_sequence

    from grader.confined.probes.variable_length import packing_calls

    source = "def forward(pack, x, lengths):\n    return pack(x, lengths, enforce_sorted=False)\n"
    namespace: dict = {}
    exec(compile(source, LEARNER, "exec"), namespace)
    own = torch._VF._pack_padded_sequence  # a learner's replacement, here torch's own
    torch._VF._pack_padded_sequence = own
    try:
        with packing_calls(LEARNER) as found:
            namespace["forward"](pack_padded_sequence, torch.zeros(4, 7, 5), torch.tensor([4, 3]))
        assert found == [
            {"line": 2, "code": "", "shape": [4, 2, 5], "batch_first": False, "lengths": [4, 3]}
        ]
        assert vars(torch._VF)["_pack_padded_sequence"] is own
    finally:
        vars(torch._VF).pop("_pack_padded_sequence", None)
    with packing_calls(LEARNER):
        pass
    assert "_pack_padded_sequence" not in vars(torch._VF)


@pytest.mark.parametrize(
    "reply",
    [{}, {"seen": "x"}, {"seen": {"lstm": "x"}}, {"seen": {"lstm": [["x"]]}}],
)
def test_what_the_first_lstm_was_given_is_read_field_by_field(checks, reply):
    found = checks("01_lstm_network").first_lstm(reply)
    assert not any(found.get(k) for k in ("input", "dtype", "batch_first", "states"))


def test_a_wrong_shape_alone_names_no_cause(checks):
    """Scores of the (B, B, classes) shape that out[:, lengths - 1] gives, but other values:
    the shape is said, no cause."""
    ex6 = checks("06_variable_length")
    net = nn.Module()
    net.head = nn.Linear(8, 3)
    said = ex6.shape_message(torch.zeros(4, 4, 3), "a case", (4, 7, 5), net)
    assert said == ex6.SHAPE.format(case="a case", got="(4, 4, 3)", b=4, c=3)
    said = ex6.shape_message(torch.zeros(4, 7, 3), "a case", (4, 7, 5), net)
    assert "the padded length" in said and "kept every time step" not in said


def test_the_training_probe_says_what_each_argument_of_the_criterion_was():
    from grader.confined.probes.training import _argument

    output, targets = torch.zeros(5, 4), torch.tensor([0, 1, 2, 3, 0])
    assert _argument(output, output, targets)["role"] == "output"
    assert _argument(targets, output, targets)["role"] == "targets"
    converted = _argument(targets.float(), output, targets)
    assert converted == {"shape": [5], "dtype": "float32", "role": "targets converted"}
    assert _argument(targets + 1, output, targets)["role"] == "other"
    assert _argument(output.clone(), output, targets)["role"] == "other"
    assert _argument([1, 2], output, targets) == {"kind": "a list of 2 (an int, an int)"}


def test_a_step_in_the_right_order_is_not_told_the_right_order(grade_source):
    """Right calls in the right order, then the parameters shrunk by hand: no replay and no
    observation explains it, and the message says so rather than blame the order."""
    source = "import torch\n\n\ndef train_step(model, inputs, targets, criterion, optimizer):\n"
    source += "    model.train()\n    optimizer.zero_grad()\n"
    source += "    loss = criterion(model(inputs), targets)\n    loss.backward()\n"
    source += "    optimizer.step()\n    with torch.no_grad():\n"
    source += "        for p in model.parameters():\n            p.mul_(0.99)\n"
    source += "    return loss.item()\n"
    message = check(grade_source("02_training_step", source), "test_sgd_momentum_mse").message
    assert "in the right order, with the optimizer it was given" in message, message
    assert "not known" in message and "The right order is" not in message
