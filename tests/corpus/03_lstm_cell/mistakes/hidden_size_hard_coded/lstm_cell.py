# corpus: slices the gates with a hidden size of 4 written into the code
# catches: test_matches_lstm_cell
# says: Your LSTMCell(3, 7) raised

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
        H = 4
        if state is None:
            z = x.new_zeros(*x.shape[:-1], H); state=(z,z)
        h,c = state
        g = x@self.weight_ih.T + h@self.weight_hh.T + self.bias_ih + self.bias_hh
        i,f,gg,o = g[...,0:4].sigmoid(), g[...,4:8].sigmoid(), g[...,8:12].tanh(), g[...,12:16].sigmoid()
        c = f*c + i*gg
        return o*c.tanh(), c
