# corpus: reads the padded batch at its last column, out[:, -1]
# catches: test_unsorted_lengths
# says: padding
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x, lengths):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def masked_mean(steps, lengths):
    n = lengths.to(steps.device)
    real = torch.arange(steps.size(1), device=steps.device) < n[:, None]
    total = steps.masked_fill(~real[..., None], 0).sum(dim=1)
    return total / n[:, None]
