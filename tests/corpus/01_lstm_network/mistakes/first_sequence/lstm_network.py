# corpus: batch_first=True and the head on out[0]: the FIRST sequence, never called the last
# catches: test_batch_output
# says: has shape (7, 1)
# must not say: LAST SEQUENCE
# must not say: without batch_first
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
        out, _ = self.lstm(x)
        return self.fc(out[0])
