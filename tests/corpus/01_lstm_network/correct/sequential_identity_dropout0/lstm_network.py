# corpus: head inside nn.Sequential after nn.Identity, an nn.Dropout(0.0), h_n[-1], recursion for unbatched input
# expects: full marks
import torch
import torch.nn as nn


class LSTMNetwork(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, num_layers: int, output_size: int) -> None:
        super().__init__()
        self.H = hidden_size
        self.L = num_layers
        self.encoder = nn.LSTM(input_size=input_size, hidden_size=hidden_size,
                               num_layers=num_layers, batch_first=True, bias=True, dropout=0.0)
        self.decoder = nn.Sequential(nn.Identity(), nn.Linear(hidden_size, output_size))
        self.drop = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 2:
            return self.forward(x[None])[0]
        B = x.shape[0]
        h = x.new_zeros((self.L, B, self.H))
        c = x.new_zeros((self.L, B, self.H))
        _, (h_n, c_n) = self.encoder(x, (h, c))
        return self.decoder(self.drop(h_n[-1]))
