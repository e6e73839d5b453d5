"""The vanishing-gradient experiment behind the lesson's figure, and the data committed for it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

ROOT = Path(__file__).resolve().parent.parent


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gradients = load(ROOT / "solutions" / "05_vanishing_gradients" / "gradients.py")
figures_script = load(ROOT / "scripts" / "figures.py")


@pytest.mark.parametrize("layer", [nn.RNN, nn.LSTM])
def test_norms_match_the_jacobian_of_the_last_output(layer) -> None:
    torch.manual_seed(0)
    model = layer(3, 5, num_layers=2, batch_first=True).double()
    inputs = torch.randn(1, 6, 3, dtype=torch.float64)

    def last(x):
        return model(x)[0][:, -1].sum()

    expected = torch.autograd.functional.jacobian(last, inputs)[0].norm(dim=-1)
    norms = gradients.input_gradient_norms(model, inputs)
    assert norms.shape == (6,)
    torch.testing.assert_close(norms, expected)


def test_the_model_and_the_inputs_are_left_as_they_were() -> None:
    torch.manual_seed(0)
    model = nn.LSTM(3, 4, batch_first=True)
    model.weight_hh_l0.grad = torch.ones_like(model.weight_hh_l0)  # a gradient already there
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    inputs = torch.randn(1, 5, 3)
    gradients.input_gradient_norms(model, inputs)
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]), name
        expected_grad = torch.ones_like(p) if name == "weight_hh_l0" else None
        assert (p.grad is None) == (expected_grad is None), name
        if expected_grad is not None:
            assert torch.equal(p.grad, expected_grad)
    assert not inputs.requires_grad and inputs.grad is None
    assert model.training


def test_it_works_under_no_grad() -> None:
    model = nn.RNN(2, 3, batch_first=True)
    with torch.no_grad():
        norms = gradients.input_gradient_norms(model, torch.randn(1, 4, 2))
    assert norms.shape == (4,) and bool((norms > 0).all())


def test_the_committed_figure_data_is_what_the_script_computes(tmp_path, monkeypatch) -> None:
    committed = json.loads(figures_script.OUTPUT.read_text("utf-8"))
    monkeypatch.setattr(figures_script, "OUTPUT", tmp_path / "gradient_norms.json")
    monkeypatch.setattr(figures_script, "ROOT", tmp_path)
    figures_script.main()
    fresh = json.loads((tmp_path / "gradient_norms.json").read_text("utf-8"))
    assert fresh["series"].keys() == committed["series"].keys()
    for name, norms in fresh["series"].items():
        assert norms == pytest.approx(committed["series"][name], rel=1e-3), name
    assert committed["command"] == "python scripts/figures.py"
