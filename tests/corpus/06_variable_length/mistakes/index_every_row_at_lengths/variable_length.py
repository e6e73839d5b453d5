# corpus: out[:, lengths - 1], shape (B, B, hidden): every sequence at every sequence's last step
# catches: test_sorted_lengths
# says: out[:, lengths - 1]
# must not say: kept every time step

import torch
import torch.nn as nn


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x, lengths):
        # x: (B, T, input_size), padded; lengths: (B,) CPU int64, in any order
        out, _ = self.lstm(x)  # (B, T, hidden)
        return self.head(out[:, lengths - 1])


def masked_mean(steps, lengths):
    # steps: (B, T, features) on any device; lengths: (B,) CPU int64
    n = lengths.to(steps.device)
    real = torch.arange(steps.size(1), device=steps.device) < n[:, None]  # (B, T)
    total = steps.masked_fill(~real[..., None], 0).sum(dim=1)  # (B, features)
    return total / n[:, None].to(steps.dtype)
