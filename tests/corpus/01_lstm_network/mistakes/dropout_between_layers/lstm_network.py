# corpus: nn.LSTM(..., dropout=0.2): the output changes from call to call in training mode
# catches: test_batch_output
# says: dropout=0.2
# must not say: torch.randn
import torch
import torch.nn as nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True, dropout=0.2)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(0)
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size, device=x.device, dtype=x.dtype)
        c0 = torch.zeros_like(h0)
        out, _ = self.lstm(x, (h0, c0))
        y = self.fc(out[:, -1, :])
        return y.squeeze(0) if unbatched else y
