# corpus: packs the batch-first x without batch_first=True: torch packs it, nn.LSTM fails a line later
# catches: test_sorted_lengths
# says: read dimension 0 of the batch it packed, of size 4, as time
# must not say: its message says why
# must not say: came from inside the library call

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x, lengths):
        # x: (B, T, input_size), padded; lengths: (B,) CPU int64, in any order
        sequences = pack_padded_sequence(x, lengths, enforce_sorted=False)
        _, (h_n, _) = self.lstm(sequences)  # h_n: (num_layers, B, hidden), each at its own end
        return self.head(h_n[-1])  # the top layer -> (B, num_classes) scores


def masked_mean(steps, lengths):
    # steps: (B, T, features) on any device; lengths: (B,) CPU int64
    n = lengths.to(steps.device)
    real = torch.arange(steps.size(1), device=steps.device) < n[:, None]  # (B, T)
    total = steps.masked_fill(~real[..., None], 0).sum(dim=1)  # (B, features)
    return total / n[:, None].to(steps.dtype)
