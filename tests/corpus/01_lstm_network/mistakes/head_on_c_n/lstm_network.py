# corpus: the head on c_n, the cell state of every layer: not h_n, so never called h_n
# catches: test_batch_output
# says: has shape (2, 4, 1)
# must not say: all of h_n
# must not say: every time step
import torch
import torch.nn as nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        _, (h_n, c_n) = self.lstm(x)
        return self.fc(c_n)
