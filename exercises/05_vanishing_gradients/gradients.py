"""Exercise 5: measuring vanishing gradients. Read README.md beside this file first.

Grade it with:  course grade exercises/05_vanishing_gradients
"""

import torch
from torch import nn


def input_gradient_norms(model, inputs):
    """Return the L2 norm of d(sum of the last output) / d(input at step t), for every step t.

    model: an nn.RNN or nn.LSTM built with batch_first=True
    inputs: one sequence, (1, seq_len, input_size)
    returns: (seq_len,)
    """
    # TODO: 1. a copy of inputs that requires a gradient (leave the caller's tensor alone)
    #       2. run the model; take the top layer's output at the LAST time step and sum it
    #       3. the gradient of that sum with respect to your copy, without adding anything
    #          into the parameters' .grad
    #       4. one L2 norm per time step, over the input features -> (seq_len,)
    raise NotImplementedError("TODO: input_gradient_norms")
