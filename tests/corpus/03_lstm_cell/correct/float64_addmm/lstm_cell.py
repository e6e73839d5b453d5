# corpus: computes in float64 with addmm and casts h and c back to the input dtype
# expects: full marks
import math
import torch
import torch.nn as nn


class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        bound = 1 / math.sqrt(hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size).uniform_(-bound, bound))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size).uniform_(-bound, bound))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-bound, bound))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-bound, bound))

    def forward(self, x, state=None):
        dt = x.dtype
        xd = x.double()
        if state is None:
            h = torch.zeros(*x.shape[:-1], self.hidden_size, dtype=torch.float64, device=x.device)
            c = torch.zeros_like(h)
        else:
            h, c = state[0].double(), state[1].double()
        z = (torch.addmm(self.bias_ih.double(), xd.reshape(-1, self.input_size), self.weight_ih.double().t())
             + torch.addmm(self.bias_hh.double(), h.reshape(-1, self.hidden_size), self.weight_hh.double().t()))
        z = z.reshape(*x.shape[:-1], 4 * self.hidden_size)
        i, f, g, o = z.unbind(-1) if False else z.chunk(4, -1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        return h_new.to(dt), c_new.to(dt)
