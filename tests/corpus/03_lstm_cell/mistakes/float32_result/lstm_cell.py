# corpus: right formulas, but h and c are cast to float32 at the end, whatever x's dtype
# catches: test_float64
# says: it must be torch.float64
# must not say: uses a sigmoid

import math

import torch
import torch.nn as nn


class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        H = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * H, input_size))  # W_i, W_f, W_g, W_o
        self.weight_hh = nn.Parameter(torch.empty(4 * H, H))  # U_i, U_f, U_g, U_o
        self.bias_ih = nn.Parameter(torch.empty(4 * H))
        self.bias_hh = nn.Parameter(torch.empty(4 * H))
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's initialisation: every entry uniform in ±1/√H."""
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x, state=None):
        batched = x.dim() == 2
        if not batched:  # one sample: (input_size,), states (hidden_size,)
            x = x.unsqueeze(0)
            state = None if state is None else (state[0].unsqueeze(0), state[1].unsqueeze(0))
        if state is None:
            zeros = x.new_zeros(x.size(0), self.hidden_size)  # x's dtype and device
            state = (zeros, zeros)
        h, c = state  # (batch, H) each
        # 1. the four pre-activations at once
        z = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh  # (batch, 4H)
        z_i, z_f, z_g, z_o = z.chunk(4, dim=1)  # (batch, H) each
        # 2. the gates are fractions (sigmoid); the candidate is signed content (tanh)
        i, f, g, o = torch.sigmoid(z_i), torch.sigmoid(z_f), torch.tanh(z_g), torch.sigmoid(z_o)
        # 3. keep part of the old memory, write part of the candidate
        c = f * c + i * g
        # 4. show part of the squashed memory
        h = o * torch.tanh(c)
        h, c = h.float(), c.float()  # the results always in float32
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))
