# corpus: numpy windows, RMSprop with early stopping on the training loss, a deque as the rolling window
# expects: full marks
from collections import deque

import numpy as np
import torch
import torch.nn as nn


def make_windows(series, window):
    arr = series.detach().cpu().numpy()
    n = len(arr) - window
    if n <= 0:
        raise ValueError("the series must be longer than the window: no value follows the first window")
    X = np.stack([arr[i:i + window] for i in range(n)])[..., None]
    Y = arr[window:][:, None]
    return torch.from_numpy(X.copy()).to(series.dtype), torch.from_numpy(Y.copy()).to(series.dtype)


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = 32
        self.lstm = nn.LSTM(1, self.hidden, num_layers=1, batch_first=True)
        self.proj = nn.Linear(self.hidden, 1)

    def forward(self, x):
        h0 = x.new_zeros(1, x.size(0), self.hidden)
        out, _ = self.lstm(x, (h0, h0))
        return self.proj(out[:, -1, :])


def fit(series, window=20, epochs=200, seed=0):
    torch.manual_seed(seed)
    inputs, targets = make_windows(series, window)
    inputs, targets = inputs.float(), targets.float()
    model = Forecaster()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=3e-3)
    best, best_state, patience = float("inf"), None, 0
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(inputs), targets)
        loss.backward()
        optimizer.step()
        if loss.item() < best - 1e-6:
            best, patience = loss.item(), 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            patience += 1
            if patience > 30:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return model


def forecast(model, history, steps, window=20):
    model.eval()
    q = deque(history[-window:].tolist(), maxlen=window)
    preds = []
    with torch.no_grad():
        for _ in range(steps):
            x = torch.tensor(list(q), dtype=torch.float32).reshape(1, window, 1)
            yhat = float(model(x))
            preds.append(yhat)
            q.append(yhat)
    return torch.tensor(preds)
