# corpus: pack, pad_packed_sequence, gather at the returned lengths - 1; an nn.Dropout(0.0); a where-based mean
# expects: full marks
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        self.hidden_size = hidden_size
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.dropout = nn.Dropout(0.0)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out_packed, _ = self.lstm(packed)
        out, out_lengths = pad_packed_sequence(out_packed, batch_first=True)
        index = (out_lengths - 1).view(-1, 1, 1).expand(-1, 1, self.hidden_size).to(out.device)
        last = out.gather(1, index).squeeze(1)
        return self.fc(self.dropout(last))


def masked_mean(steps, lengths):
    lengths = lengths.to(steps.device)
    mask = torch.arange(steps.shape[1], device=steps.device).unsqueeze(0) < lengths.unsqueeze(1)
    summed = torch.where(mask.unsqueeze(-1), steps, torch.zeros_like(steps)).sum(1)
    return summed / lengths.unsqueeze(1).to(steps.dtype)
