"""Small models that the training checks run learners' steps on. Shared by the runner (which
trains with the learner's step) and the checker (which trains with the reference step)."""

from __future__ import annotations

import torch
import torch.nn as nn

from grader.confined.probes.common import copied, load_weights


class TinySequenceModel(nn.Module):
    """An LSTM over (batch, seq, features) with a linear head; records the mode of each forward
    so that checks can tell whether the step put the model in training mode."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, output_size)
        self.modes: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        out, _ = self.lstm(x)  # (batch, seq, hidden)
        return self.head(out[:, -1])  # (batch, output)


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    if name == "sgd_momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(f"unknown optimizer {name}")


def make_criterion(name: str) -> nn.Module:
    return {
        "mse": nn.MSELoss,
        "cross_entropy": nn.CrossEntropyLoss,
        "bce_logits": nn.BCEWithLogitsLoss,
    }[name]()


def setup(recipe: dict, weights: list[torch.Tensor], stale: list[torch.Tensor]):
    """The model (with `weights` and stale gradients in .grad), optimizer and criterion of a
    recipe, identical in runner and checker."""
    model = TinySequenceModel(*recipe["sizes"])
    load_weights(model.parameters(), weights, stale)
    model.eval()  # the step itself must switch to training mode
    optimizer = make_optimizer(recipe["optimizer"], model.parameters(), recipe["lr"])
    return model, optimizer, make_criterion(recipe["criterion"])


class RecordingForecaster(nn.Module):
    """A small fixed forecaster for the forecast checks, (batch, window, 1) -> (batch, 1): the
    window's last value plus an LSTM's correction. It keeps a copy of every input it is given,
    so that a check can see which windows a learner's forecast fed it."""

    LIMIT = 200  # inputs kept

    def __init__(self, hidden_size: int = 6) -> None:
        super().__init__()
        self.lstm = nn.LSTM(1, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.seen) < self.LIMIT:
            self.seen.append(copied(x))
        out, _ = self.lstm(x)  # (batch, window, hidden)
        return x[:, -1] + self.head(out[:, -1])  # (batch, 1)


def recording_forecaster(weights: list[torch.Tensor]) -> RecordingForecaster:
    """A RecordingForecaster carrying `weights` (in the order of its parameters())."""
    model = RecordingForecaster()
    load_weights(model.parameters(), weights)
    return model


class ChunkModel(nn.Module):
    """An LSTM forecaster that takes and returns its state, for training in chunks:
    model(x, state) -> (predictions, (h, c)), x (batch, chunk, 1), predictions (batch, chunk, 1).
    It keeps what each call was given (`calls`), so that a check can see how the learner's
    loop cut the sequence and carried the state."""

    LIMIT = 200  # calls recorded

    def __init__(self, hidden_size: int = 5) -> None:
        super().__init__()
        self.lstm = nn.LSTM(1, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)
        self.calls: list[dict] = []

    def forward(self, x: torch.Tensor, state=None):
        if len(self.calls) < self.LIMIT:
            self.calls.append({"x": copied(x), "state": state_kind(state)})
        out, state = self.lstm(x, state)  # out: (batch, chunk, hidden)
        return self.head(out), state


def state_kind(state) -> str:
    """How a state reached the model: "none", "detached" (no autograd history), or
    "attached" (it still holds the graph of the chunk that computed it)."""
    if state is None:
        return "none"
    parts = state if type(state) in (tuple, list) else (state,)
    tensors = [p for p in parts if isinstance(p, torch.Tensor)]
    return "attached" if any(p.grad_fn is not None for p in tensors) else "detached"


def chunk_setup(weights: list[torch.Tensor], lr: float):
    """The ChunkModel (with `weights`), its SGD optimizer and MSE criterion: identical in the
    runner and the checker."""
    model = ChunkModel()
    load_weights(model.parameters(), weights)
    return model, torch.optim.SGD(model.parameters(), lr=lr), nn.MSELoss()
