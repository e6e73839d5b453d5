# corpus: out = self.lstm(x), then out[:, -1, :]: the pair nn.LSTM returns indexed as a tensor
# catches: test_batch_output
# says: Unpack it first
import torch.nn as nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        out = self.lstm(x)
        return self.fc(out[:, -1, :])
