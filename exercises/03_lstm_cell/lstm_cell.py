"""Exercise 3: an LSTM cell from scratch. Read README.md beside this file first.

Grade it with:  course grade exercises/03_lstm_cell

Not allowed here: nn.LSTM, nn.LSTMCell and torch's fused LSTM functions (torch.lstm_cell,
torch._VF...). Build the gates yourself from the four parameters.
"""

import math

import torch
import torch.nn as nn


class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        # TODO: keep input_size and hidden_size, then create four nn.Parameter tensors:
        #   weight_ih (4 * hidden_size, input_size), weight_hh (4 * hidden_size, hidden_size),
        #   bias_ih (4 * hidden_size,), bias_hh (4 * hidden_size,)
        # with the gates stacked in PyTorch's order: input, forget, cell candidate, output.
        # Initialise them, e.g. every entry uniform in [-1/sqrt(hidden_size), 1/sqrt(hidden_size)].
        raise NotImplementedError("TODO: create the four parameters")

    def forward(self, x, state=None):
        # x: (batch, input_size), or (input_size,) for one sample
        # state: (h, c), each (batch, hidden_size), or None for zeros
        # TODO: 1. no state: zeros on x's device with x's dtype
        #       2. the four gate pre-activations from x, h and both biases
        #       3. i, f, o through a sigmoid; the candidate g through a tanh
        #       4. c = f * c + i * g, then h = o * tanh(c)
        # returns (h, c), each (batch, hidden_size), or (hidden_size,) for one sample
        raise NotImplementedError("TODO: one step of the cell")
