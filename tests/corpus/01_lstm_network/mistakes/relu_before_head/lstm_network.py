# corpus: a ReLU between the LSTM and the linear head
# catches: test_batch_output
# says: relu of the top layer
# must not say: matches none of the usual mistakes
import torch
import torch.nn as nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Sequential(nn.ReLU(), nn.Linear(hidden_size, output_size))

    def forward(self, x):
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(0)
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size, device=x.device, dtype=x.dtype)
        out, _ = self.lstm(x, (h0, h0))
        y = self.fc(out[:, -1, :])
        return y.squeeze(0) if unbatched else y
