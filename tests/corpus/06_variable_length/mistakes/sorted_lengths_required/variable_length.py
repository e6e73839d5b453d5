# corpus: packs without enforce_sorted=False: fine for sorted lengths, refused for others
# catches: test_unsorted_lengths
# says: enforce_sorted=False
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True)
        _, (h_n, _) = self.lstm(packed)
        return self.head(h_n[-1])


def masked_mean(steps, lengths):
    n = lengths.to(steps.device)
    real = torch.arange(steps.size(1), device=steps.device) < n[:, None]
    total = steps.masked_fill(~real[..., None], 0).sum(dim=1)
    return total / n[:, None]
