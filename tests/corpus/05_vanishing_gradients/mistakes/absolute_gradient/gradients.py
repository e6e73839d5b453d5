# corpus: returns the gradient's absolute values, one per step and feature, not a norm per step
# catches: test_rnn
# says: one value per time step and feature
# must not say: the gradient itself

import torch


def input_gradient_norms(model, inputs):
    x = inputs.detach().requires_grad_()
    out, _ = model(x)
    (grad,) = torch.autograd.grad(out[:, -1].sum(), x)
    return grad[0].abs()
