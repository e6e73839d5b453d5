# corpus: transposes x to time-major itself, then sizes the states with the time steps
# catches: test_batch_output
# says: h0 has shape (2, 7, 20)
# must not say: without batch_first=True it reads x
# must not say: built with x.size(0)
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
        x = x.transpose(0, 1)  # (seq, batch, input): what nn.LSTM reads by default
        h0 = x.new_zeros(self.num_layers, x.size(0), self.hidden_size)
        c0 = x.new_zeros(self.num_layers, x.size(0), self.hidden_size)
        out, _ = self.lstm(x, (h0, c0))
        return self.fc(out[-1])
