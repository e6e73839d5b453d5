# corpus: gates computed column-major (4H, batch), h and c returned as transposed views
# expects: full marks

import torch, torch.nn as nn
class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        H = hidden_size
        self.weight_ih = nn.Parameter(torch.randn(4*H, input_size))
        self.weight_hh = nn.Parameter(torch.randn(4*H, H))
        self.bias_ih = nn.Parameter(torch.zeros(4*H))
        self.bias_hh = nn.Parameter(torch.zeros(4*H))

    def forward(self, x, state=None):
        H = self.hidden_size
        if state is None:
            z = x.new_zeros(*x.shape[:-1], H); state = (z, z)
        h, c = state
        g = self.weight_ih @ x.T + self.weight_hh @ h.T + (self.bias_ih + self.bias_hh)[:, None] if x.dim() == 2 else None
        if g is None:
            g = self.weight_ih @ x + self.weight_hh @ h + self.bias_ih + self.bias_hh
            i, f, gg, o = g.split(H)
            c2 = f.sigmoid() * c + i.sigmoid() * gg.tanh()
            return o.sigmoid() * c2.tanh(), c2
        i, f, gg, o = g.split(H)
        c2 = f.sigmoid() * c.T + i.sigmoid() * gg.tanh()
        h2 = o.sigmoid() * c2.tanh()
        return h2.T, c2.T
