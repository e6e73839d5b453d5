"""Exercise 4: forecasting a time series. Read README.md beside this file first.

Grade it with:  course grade exercises/04_forecasting
"""

import torch
import torch.nn as nn


def make_windows(series, window):
    """Cut a 1-D series of length T into T - window (window, next value) pairs."""
    # TODO: 1. raise ValueError when the series has no value after its first window
    #       2. inputs[i] = series[i : i + window], shaped (T - window, window, 1)
    #       3. targets[i] = series[i + window], shaped (T - window, 1)
    raise NotImplementedError("TODO: make_windows")


class Forecaster(nn.Module):
    """Your model: (batch, window, 1) -> (batch, 1). It must use an nn.LSTM."""

    def __init__(self):
        super().__init__()
        # TODO: an nn.LSTM that reads (batch, window, 1) and a linear head to one value
        raise NotImplementedError("TODO: build the forecaster")

    def forward(self, x):
        # TODO: run the LSTM; apply the head to the last time step -> (batch, 1)
        raise NotImplementedError("TODO: the forward pass")


def fit(series, window=20, epochs=150, seed=0):
    """Train a forecaster on every window of `series` and return it."""
    # TODO: 1. torch.manual_seed(seed), so that the same seed gives the same model
    #       2. the windows and targets of the series
    #       3. a model, an optimizer and nn.MSELoss
    #       4. `epochs` training steps (exercise 2), then return the model
    raise NotImplementedError("TODO: fit")


def forecast(model, history, steps, window=20):
    """Predict the `steps` values that follow the 1-D tensor `history`, shaped (steps,)."""
    # TODO: 1. model.eval() and torch.no_grad()
    #       2. start from the last `window` values of history
    #       3. at each step predict one value, then drop the oldest value of the window and
    #          append the prediction: the model's own prediction, never a true value
    raise NotImplementedError("TODO: forecast")
