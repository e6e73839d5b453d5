# corpus: one helper per gate slice, nn.Sigmoid/nn.Tanh modules, nn.LSTMCell only under __main__
# expects: full marks
import math
import torch
import torch.nn as nn


class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        k = 1.0 / math.sqrt(hidden_size)
        self.weight_ih = nn.Parameter((torch.rand(4 * hidden_size, input_size) * 2 - 1) * k)
        self.weight_hh = nn.Parameter((torch.rand(4 * hidden_size, hidden_size) * 2 - 1) * k)
        self.bias_ih = nn.Parameter((torch.rand(4 * hidden_size) * 2 - 1) * k)
        self.bias_hh = nn.Parameter((torch.rand(4 * hidden_size) * 2 - 1) * k)
        self.sigmoid = nn.Sigmoid()
        self.tanh = nn.Tanh()

    def _gate(self, k, x, h):
        H = self.hidden_size
        rows = slice(k * H, (k + 1) * H)
        return (torch.matmul(x, self.weight_ih[rows].transpose(0, 1)) + self.bias_ih[rows]
                + torch.matmul(h, self.weight_hh[rows].transpose(0, 1)) + self.bias_hh[rows])

    def forward(self, x, state=None):
        if state is None:
            h = torch.zeros(x.shape[:-1] + (self.hidden_size,)).to(x)
            c = h.clone()
        else:
            (h, c) = state
        i = self.sigmoid(self._gate(0, x, h))
        f = self.sigmoid(self._gate(1, x, h))
        g = self.tanh(self._gate(2, x, h))
        o = self.sigmoid(self._gate(3, x, h))
        c = f * c + i * g
        h = o * self.tanh(c)
        return (h, c)


if __name__ == "__main__":
    ref = nn.LSTMCell(3, 4)
    mine = LSTMCell(3, 4)
    mine.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3)
    print(torch.allclose(mine(x)[0], ref(x)[0]))
