# corpus: other attribute names, the head registered before the LSTM
# expects: full marks
import torch
from torch import nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.readout = nn.Linear(hidden_size, output_size)
        self.encoder = nn.LSTM(
            input_size=input_size, hidden_size=hidden_size, num_layers=num_layers, batch_first=True
        )
        self.layers, self.width = num_layers, hidden_size

    def forward(self, x):
        squeeze = x.dim() == 2
        if squeeze:
            x = x[None]
        state = (
            torch.zeros(self.layers, x.shape[0], self.width, dtype=x.dtype, device=x.device),
            torch.zeros(self.layers, x.shape[0], self.width, dtype=x.dtype, device=x.device),
        )
        seq, _ = self.encoder(x, state)
        y = self.readout(seq[:, -1])
        return y[0] if squeeze else y
