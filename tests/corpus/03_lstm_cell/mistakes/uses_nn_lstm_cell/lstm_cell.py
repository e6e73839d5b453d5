# corpus: subclasses nn.LSTMCell instead of computing the gates
# catches: test_builds_its_own_gates
# says: build the gates yourself

import torch
import torch.nn as nn


class LSTMCell(nn.LSTMCell):
    def forward(self, x, state=None):
        h, c = super().forward(x, state)
        return h, c
