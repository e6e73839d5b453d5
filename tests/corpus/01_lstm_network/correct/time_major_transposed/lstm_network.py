# corpus: time-major LSTM inside, transposing x
# expects: full marks
import torch
import torch.nn as nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        batched = x.dim() == 3
        xs = x.transpose(0, 1) if batched else x.unsqueeze(1)  # (seq, batch, input)
        out, _ = self.lstm(xs)
        y = self.fc(out[-1])
        return y if batched else y.squeeze(0)
