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
from tests.conftest import REPO, failed_messages

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


def test_torchs_lstm_code_is_rejected_with_the_reason(grade_source):
    source = (REPO / "solutions/03_lstm_cell/lstm_cell.py").read_text()
    fused = "h, c = torch.lstm_cell(x, (h, c), *self.parameters())"
    source = source.replace("        c = f * c + i * g\n", f"        {fused}\n")
    source = source.replace("        h = o * torch.tanh(c)\n", "")
    result = grade_source("03_lstm_cell", source)
    rule = check(result, "test_builds_its_own_gates")
    line = source.splitlines().index(next(s for s in source.splitlines() if "lstm_cell(" in s))
    assert rule.state == "failed"
    assert f"torch.lstm_cell at line {line + 1}" in rule.message
    assert "build the gates yourself" in rule.message and "not allowed" in rule.message
    assert check(result, "test_matches_lstm_cell").state == "blocked"
    assert result.score == 1  # the parameters are right; nothing else counts


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
    ahead = check(result, "test_forecast_uses_only_history")
    assert ahead.state == "failed" and "reads past the end of the history" in ahead.message
    assert check(result, "test_forecast_feeds_back").state == "failed"


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
    source = "def input_gradient_norms(model, inputs):\n"
    source += "    x = inputs.detach().requires_grad_()\n"
    source += "    out, _ = model(x)\n    out[:, -1].sum().backward()\n"
    source += "    return x.grad[0].norm(dim=-1)\n"
    result = grade_source("05_vanishing_gradients", source)
    assert result.score == 6, failed_messages(result)
    assert "torch.autograd.grad" in check(result, "test_leaves_model_as_found").message
