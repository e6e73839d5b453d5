# corpus: make_windows starts at window 1: one window fewer, the FIRST one missing, not the last
# catches: test_windows
# says: one window fewer
# must not say: the last window
# must not say: is missing

import torch
import torch.nn as nn


def make_windows(series, window):
    """inputs[i] = series[i : i + window] and targets[i] = series[i + window], for every i."""
    if len(series) <= window:
        raise ValueError(
            f"a series of {len(series)} values has no window of {window} followed by a "
            f"target; it needs at least {window + 1} values"
        )
    T = len(series)
    starts = torch.arange(1, T - window)  # from 1: window 0 left out
    index = starts[:, None] + torch.arange(window)  # (N, window): row i is i, i+1, ..., i+window-1
    inputs = series[index].unsqueeze(-1)  # (N, window, 1)
    targets = series[window:].unsqueeze(-1)  # (N, 1): the value right after each window
    return inputs, targets


class Forecaster(nn.Module):
    """An LSTM over a window of values and a linear head on its last hidden state."""

    def __init__(self, hidden_size=32):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x):  # x: (batch, window, 1)
        out, _ = self.lstm(x)  # (batch, window, hidden_size)
        return self.head(out[:, -1])  # (batch, 1)


def fit(series, window=20, epochs=150, seed=0):
    """Train a Forecaster on every window of `series`; the same seed gives the same model."""
    torch.manual_seed(seed)
    inputs, targets = make_windows(series, window)
    model = Forecaster()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    criterion = nn.MSELoss()
    model.train()
    for _ in range(epochs):  # full batch: every window in each step
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
    return model


def forecast(model, history, steps, window=20):
    """Predict `steps` values after `history`, each from the `window` values before it, the
    model's own predictions included once it has made them."""
    model.eval()
    context = history[-window:].clone()  # (window,) the latest values known
    predictions = []
    with torch.no_grad():
        for _ in range(steps):
            y = model(context.view(1, window, 1)).view(1)  # (1,) the next value
            predictions.append(y)
            context = torch.cat([context[1:], y])  # drop the oldest, append the prediction
    return torch.cat(predictions)  # (steps,)
