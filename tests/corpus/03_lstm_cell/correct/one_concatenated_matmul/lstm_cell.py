# corpus: x and h concatenated, one matmul, xavier init, torch.addmm; a self-test against nn.LSTMCell under __main__
# expects: full marks

import math

import torch
import torch.nn as nn


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
        nn.init.xavier_uniform_(self.weight_ih)
        nn.init.orthogonal_(self.weight_hh)
        nn.init.zeros_(self.bias_ih)
        nn.init.zeros_(self.bias_hh)
        with torch.no_grad():
            self.bias_hh[H : 2 * H] = 1.0  # forget gate starts open

    def forward(self, x, state=None):
        batched = x.dim() == 2
        if not batched:
            x = x.unsqueeze(0)
            state = None if state is None else (state[0].unsqueeze(0), state[1].unsqueeze(0))
        if state is None:
            zeros = x.new_zeros(x.size(0), self.hidden_size)
            state = (zeros, zeros)
        h, c = state
        W = torch.cat([self.weight_ih, self.weight_hh], dim=1)  # (4H, I + H)
        z = torch.addmm(self.bias_ih + self.bias_hh, torch.cat([x, h], dim=1), W.t())
        H = self.hidden_size
        gates = torch.sigmoid(z[:, [*range(0, 2 * H), *range(3 * H, 4 * H)]])
        i, f, o = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H :]
        g = torch.tanh(z[:, 2 * H : 3 * H])
        c = f * c + i * g
        h = o * torch.tanh(c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


if __name__ == "__main__":
    from torch.nn import LSTMCell as Reference

    mine, theirs = LSTMCell(3, 4), Reference(3, 4)
    mine.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3)
    print(torch.allclose(mine(x)[0], theirs(x)[0], atol=1e-6))
