# corpus: trains in float64 and returns the model cast to float32; index-matrix windows; torch.roll forecast
# expects: full marks
import torch
import torch.nn as nn


def make_windows(series, window):
    T = series.numel()
    if T <= window:
        raise ValueError(f"need T > window (got T={T}, window={window}): no target after the first window")
    idx = torch.arange(window).unsqueeze(0) + torch.arange(T - window).unsqueeze(1)
    return series[idx].unsqueeze(2), series[window:].unsqueeze(1)


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 32, batch_first=True)
        self.linear = nn.Linear(32, 1)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.linear(y[:, -1, :])


def fit(series, window=20, epochs=150, seed=0):
    torch.manual_seed(seed)
    x, y = make_windows(series, window)
    model = Forecaster().double()
    x, y = x.double(), y.double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for ep in range(epochs):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return model.float()


def forecast(model, history, steps, window=20):
    model.eval()
    win = history[-window:].clone().reshape(1, window, 1).float()
    result = torch.empty(steps)
    with torch.no_grad():
        for s in range(steps):
            pred = model(win)[0, 0]
            result[s] = pred
            win = torch.roll(win, -1, dims=1)
            win[0, -1, 0] = pred
    return result
