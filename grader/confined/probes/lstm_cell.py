"""Probes for exercise 3, the LSTM cell: the cell probe (grader/confined/probes/cell.py) with the
LSTM's spec."""

from __future__ import annotations

import types

from grader.confined.probes import cell

PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
FUSED = frozenset({"lstm", "lstm_cell", "_thnn_fused_lstm_cell", "quantized_lstm_cell"})
SPEC = cell.Cell("LSTMCell", PARAMETERS, ("h", "c"), FUSED)


def build(learner: types.ModuleType, sizes: list[int]) -> dict:
    """LSTMCell(*sizes): its parameters, their shapes and its submodules."""
    return cell.build(SPEC, learner, sizes)


def steps(learner: types.ModuleType, **args) -> dict:
    """The LSTMCell over the checker's inputs, (h, c) carried from step to step."""
    return cell.steps(SPEC, learner, **args)
