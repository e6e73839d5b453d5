# corpus: an LSTM without batch_first fed a packed batch (a PackedSequence has no batch dimension); unpacked then gathered with torch.gather
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        return self.head(h_n[-1])


def masked_mean(steps, lengths):
    # cumulative sums: the sum of the first n steps is cumsum at index n - 1
    index = (lengths.to(steps.device) - 1).view(-1, 1, 1).expand(-1, 1, steps.size(2))
    total = steps.cumsum(dim=1).gather(1, index).squeeze(1)
    return total / lengths.to(steps.device, steps.dtype).unsqueeze(1)
