# corpus: sorts by length to pack with enforce_sorted=True, then puts the rows back in x's order
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x, lengths):
        sorted_lengths, order = lengths.sort(descending=True)
        packed = pack_padded_sequence(x[order], sorted_lengths, batch_first=True)
        _, (h_n, _) = self.lstm(packed)
        return self.head(h_n[-1])[order.argsort()]


def masked_mean(steps, lengths):
    real = torch.arange(steps.size(1)) < lengths[:, None]  # on the CPU, like lengths
    real = real.to(steps.device).unsqueeze(-1)
    return torch.where(real, steps, 0.0).sum(dim=1) / real.sum(dim=1)
