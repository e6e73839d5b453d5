# corpus: one matrix product per gate, weights split with chunk, F.linear
# expects: full marks

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        H = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * H, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * H, H))
        self.bias_ih = nn.Parameter(torch.empty(4 * H))
        self.bias_hh = nn.Parameter(torch.empty(4 * H))
        bound = 1 / math.sqrt(H)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x, state=None):
        batched = x.dim() == 2
        if not batched:
            x = x.unsqueeze(0)
            state = None if state is None else (state[0].unsqueeze(0), state[1].unsqueeze(0))
        if state is None:
            zeros = x.new_zeros(x.size(0), self.hidden_size)
            state = (zeros, zeros)
        h, c = state
        W = self.weight_ih.chunk(4)
        U = self.weight_hh.chunk(4)
        b = (self.bias_ih + self.bias_hh).chunk(4)
        pre = [F.linear(x, W[k]) + F.linear(h, U[k]) + b[k] for k in range(4)]
        i = torch.sigmoid(pre[0])
        f = torch.sigmoid(pre[1])
        g = torch.tanh(pre[2])
        o = torch.sigmoid(pre[3])
        c = f * c + i * g
        h = o * torch.tanh(c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))
