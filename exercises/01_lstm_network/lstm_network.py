"""Exercise 1: a stacked LSTM network. Read README.md beside this file first.

Grade it with:  course grade exercises/01_lstm_network
"""

import torch
import torch.nn as nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        # TODO: keep hidden_size and num_layers, then build
        #   - an nn.LSTM with num_layers stacked layers that reads (batch, seq_len, input_size)
        #   - an nn.Linear head from hidden_size to output_size
        raise NotImplementedError("TODO: build the LSTM and the linear head")

    def forward(self, x):
        # x: (batch, seq_len, input_size), or (seq_len, input_size) for one sequence
        # TODO: 1. zero initial states (num_layers, batch, hidden_size) on x's device and dtype
        #       2. run the LSTM over the whole sequence
        #       3. apply the head to the top layer's output at the last time step
        # returns (batch, output_size), or (output_size,) for one sequence
        raise NotImplementedError("TODO: the forward pass")
