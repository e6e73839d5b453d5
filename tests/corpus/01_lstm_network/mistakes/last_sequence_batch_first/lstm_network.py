# corpus: batch_first=True, but the head reads out[-1]: the last sequence, every time step
# catches: test_batch_output
# says: LAST SEQUENCE
# must not say: without batch_first
import torch.nn as nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[-1])
