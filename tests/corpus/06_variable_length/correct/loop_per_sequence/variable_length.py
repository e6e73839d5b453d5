# corpus: one sequence at a time, cut to its length: h_n[-1] of each, and a mean of each
import torch
import torch.nn as nn


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.out = nn.Linear(hidden_size, num_classes)

    def forward(self, x, lengths):
        rows = []
        for b in range(x.size(0)):
            n = int(lengths[b])
            _, (h_n, _) = self.rnn(x[b : b + 1, :n])
            rows.append(self.out(h_n[-1, 0]))
        return torch.stack(rows)


def masked_mean(steps, lengths):
    return torch.stack([steps[b, : int(n)].mean(dim=0) for b, n in enumerate(lengths)])
