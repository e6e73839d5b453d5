"""Exercise 6: variable-length batches. Read README.md beside this file first.

Grade it with:  course grade exercises/06_variable_length
"""

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence


class SequenceClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super().__init__()
        # TODO: build
        #   - an nn.LSTM with num_layers stacked layers that reads (batch, max_len, input_size)
        #   - an nn.Linear head from hidden_size to num_classes
        raise NotImplementedError("TODO: build the LSTM and the linear head")

    def forward(self, x, lengths):
        # x: (batch, max_len, input_size), padded after each end with any values
        # lengths: (batch,) CPU int64, each sequence's true length, in any order
        # TODO: 1. read each sequence's top-layer state at its OWN last step, (batch, hidden):
        #          pack x with pack_padded_sequence (mind the order of lengths) and take h_n,
        #          or run the LSTM on x and pick out[b, lengths[b] - 1] for every b
        #       2. apply the head: (batch, num_classes) scores, row b for sequence b of x
        raise NotImplementedError("TODO: the forward pass")


def masked_mean(steps, lengths):
    # steps: (batch, max_len, features), padded, on any device; lengths: (batch,) CPU int64
    # TODO: 1. a (batch, max_len) mask, True at the real steps t < lengths[b], on steps' device
    #       2. the sum of the real steps only, (batch, features)
    #       3. divided by each sequence's length
    raise NotImplementedError("TODO: the mean over the real steps")
