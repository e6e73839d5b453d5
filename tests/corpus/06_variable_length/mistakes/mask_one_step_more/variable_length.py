# corpus: the mask t <= lengths[b] counts the first padded step in each mean
# catches: test_masked_mean
# says: one step too many
# must not say: Check the mask
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        return self.fc(h_n[-1])


def masked_mean(steps, lengths):
    T = steps.size(1)
    mask = torch.arange(T, device=steps.device)[None, :] <= lengths.to(steps.device)[:, None] - 1 + 1
    total = (steps * mask.unsqueeze(-1)).sum(dim=1)
    return total / lengths.to(steps.device).unsqueeze(-1)
