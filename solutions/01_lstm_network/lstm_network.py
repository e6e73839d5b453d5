"""Reference solution: a stacked LSTM with a linear head on the last time step."""

import torch.nn as nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        # batch_first=True: the LSTM reads x as (batch, seq_len, input_size)
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        batched = x.dim() == 3
        if not batched:
            x = x.unsqueeze(0)  # (1, seq_len, input_size)
        # zero initial states on x's device and dtype; h_n and c_n are never batch-first
        h0 = x.new_zeros(self.num_layers, x.size(0), self.hidden_size)
        c0 = x.new_zeros(self.num_layers, x.size(0), self.hidden_size)
        out, _ = self.lstm(x, (h0, c0))  # (batch, seq_len, hidden_size)
        y = self.fc(out[:, -1, :])  # top layer, last time step -> (batch, output_size)
        return y if batched else y.squeeze(0)
