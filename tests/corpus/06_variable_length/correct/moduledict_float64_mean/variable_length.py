# corpus: the LSTM and head in an nn.ModuleDict, lengths packed as a list; the mean in float64, cast back
# expects: full marks
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.layers = nn.ModuleDict({
            "lstm": nn.LSTM(input_size, hidden_size, num_layers, batch_first=True),
            "head": nn.Linear(hidden_size, num_classes),
        })

    def forward(self, x, lengths):
        x_packed = pack_padded_sequence(x, lengths=lengths.tolist(), batch_first=True, enforce_sorted=False)
        _, (hn, _) = self.layers["lstm"](x_packed)
        return self.layers["head"](hn[-1])


def masked_mean(steps, lengths):
    B, T, F = steps.shape
    mask = (torch.arange(T)[None, :] < lengths[:, None]).double().to(steps.device)
    s = (steps.double() * mask[:, :, None]).sum(1)
    return (s / lengths.double().to(steps.device)[:, None]).to(steps.dtype)
