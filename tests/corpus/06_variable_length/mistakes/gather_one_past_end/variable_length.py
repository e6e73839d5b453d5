# corpus: out[b, lengths[b]] clamped to the batch, and a mask t <= lengths[b]: one step past each end
# catches: test_sorted_lengths
# says: one step past their end
import torch
import torch.nn as nn


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x, lengths):
        out, _ = self.lstm(x)
        idx = torch.clamp(lengths, max=x.size(1) - 1)
        return self.fc(out[torch.arange(x.size(0)), idx])


def masked_mean(steps, lengths):
    mask = torch.arange(steps.size(1), device=steps.device)[None] <= lengths.to(steps.device)[:, None]
    return (steps * mask[..., None]).sum(1) / lengths.to(steps.device)[:, None]
