# corpus: num_layers single-layer LSTMs chained by hand (the same network)
# expects: full marks
import torch.nn as nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.layers = nn.ModuleList(nn.LSTM(s, hidden_size, batch_first=True) for s in sizes)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        for layer in self.layers:
            x, _ = layer(x)
        return self.head(x[..., -1, :])
