# corpus: runs the LSTM on the padded batch and gathers out[b, lengths[b] - 1]; a 0/1 mask times steps
import torch
import torch.nn as nn


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x, lengths):
        out, _ = self.lstm(x)  # reads the padding too, but after the steps we keep
        last = out[torch.arange(x.size(0)), lengths - 1]  # (batch, hidden)
        return self.fc(last)


def masked_mean(steps, lengths):
    lengths = lengths.to(steps.device)
    mask = (torch.arange(steps.size(1), device=steps.device) < lengths.unsqueeze(1)).to(steps.dtype)
    return (steps * mask.unsqueeze(-1)).sum(dim=1) / lengths.unsqueeze(1)
