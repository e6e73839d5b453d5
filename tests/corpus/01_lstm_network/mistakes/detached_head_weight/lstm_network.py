# corpus: the head's weight used through .detach(): right output, no gradient for it
# catches: test_gradients
# says: received no gradient
# must not say: Parameter containing
import torch.nn as nn
import torch.nn.functional as F


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        out, _ = self.lstm(x)
        return F.linear(out[..., -1, :], self.fc.weight.detach(), self.fc.bias)
