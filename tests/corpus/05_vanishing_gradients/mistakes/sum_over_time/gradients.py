# corpus: sums the gradient over time: one number per feature, and no norm at all
# catches: test_rnn
# says: as many as the input features
# must not say: the norm was taken over time

import torch


def input_gradient_norms(model, inputs):
    x = inputs.detach().requires_grad_()
    out, _ = model(x)
    (grad,) = torch.autograd.grad(out[:, -1].sum(), x)
    return grad[0].sum(dim=0)
