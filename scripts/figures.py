"""Regenerate the data behind the site's figures: `python scripts/figures.py`.

Runs the vanishing-gradient experiment of solutions/05_vanishing_gradients/gradients.py on a
tanh RNN and on LSTMs with different forget-gate biases, seeded and in float64 so that every run
writes the same numbers, and saves them to site/figures/gradient_norms.json. `course build`
draws the figure from that file without importing torch; commit the file with any change here.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "05_vanishing_gradients" / "gradients.py"
OUTPUT = ROOT / "site" / "figures" / "gradient_norms.json"
COMMAND = "python scripts/figures.py"
CHART = {  # the words `course build` draws the chart with (course/figures.py knows no subject)
    "title": "Gradient norm against distance from the last time step",
    "x_axis": "distance from the last time step, T − t",
    "y_axis": "gradient norm (log scale)",
    "x_column": "distance",
    "reading": "At a distance of {x} steps from the last time step the gradient norm is",
}

SEED = 0
SEQ_LEN = 100  # time steps per sequence
INPUT_SIZE = 8
HIDDEN_SIZE = 32
SEQUENCES = 20  # the curves are the mean over this many random sequences
FORGET_BIASES = (0.0, 1.0, 2.0)


def load_experiment():
    """Import `input_gradient_norms` from the reference solution (not a package: a file)."""
    spec = importlib.util.spec_from_file_location("gradients", SOLUTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.input_gradient_norms


def lstm_with_forget_bias(bias: float) -> nn.LSTM:
    """An LSTM whose forget gate starts at sigmoid(bias); PyTorch orders the gates i, f, g, o."""
    lstm = nn.LSTM(INPUT_SIZE, HIDDEN_SIZE, batch_first=True)
    forget = slice(HIDDEN_SIZE, 2 * HIDDEN_SIZE)
    with torch.no_grad():
        lstm.bias_ih_l0[forget] = bias
        lstm.bias_hh_l0[forget] = 0.0
    return lstm


def mean_norms(input_gradient_norms, model: nn.Module, sequences: torch.Tensor) -> list[float]:
    """Mean gradient norm at each distance from the last step (index 0 = the last step)."""
    norms = torch.stack([input_gradient_norms(model, x) for x in sequences]).mean(dim=0)
    return [float(f"{v:.4g}") for v in norms.flip(0)]


def main() -> None:
    input_gradient_norms = load_experiment()
    torch.manual_seed(SEED)
    models = {"tanh RNN": nn.RNN(INPUT_SIZE, HIDDEN_SIZE, batch_first=True)}
    for bias in FORGET_BIASES:
        models[f"LSTM, forget bias {bias:g}"] = lstm_with_forget_bias(bias)
    sequences = torch.randn(SEQUENCES, 1, SEQ_LEN, INPUT_SIZE, dtype=torch.float64)
    data = {
        "command": COMMAND,
        "description": (
            f"Mean over {SEQUENCES} random sequences of the L2 norm of the gradient of the last "
            "step's output with respect to each input, by distance from the last step; "
            f"input size {INPUT_SIZE}, hidden size {HIDDEN_SIZE}, PyTorch's default "
            f"initialisation except the LSTM forget-gate bias, seed {SEED}, float64."
        ),
        "torch": torch.__version__.split("+")[0],
        "chart": CHART,
        "series": {
            name: mean_norms(input_gradient_norms, model.double(), sequences)
            for name, model in models.items()
        },
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
