# corpus: time-major LSTM with explicit dropout=0 and bias=True, x transposed, out[-1]
# expects: full marks

import torch, torch.nn as nn
class LSTMNetwork(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=False, dropout=0.0, bias=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        un = x.dim()==2
        if un: x = x.unsqueeze(0)
        out,(h,c) = self.lstm(x.transpose(0,1))
        y = self.fc(out[-1])
        return y.squeeze(0) if un else y
