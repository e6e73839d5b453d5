# corpus: norms over the time axis instead of the features
# catches: test_rnn
# says: over time

import torch


def input_gradient_norms(model, inputs):
    x = inputs.detach().requires_grad_()
    out, _ = model(x)
    (grad,) = torch.autograd.grad(out[:, -1].sum(), x)
    return grad[0].norm(dim=0)
