# corpus: backward without making the inputs require a gradient
# catches: test_rnn
# says: requires_grad

import torch


def input_gradient_norms(model, inputs):
    out, _ = model(inputs)
    out[:, -1].sum().backward()
    return inputs.grad[0].norm(dim=-1)
