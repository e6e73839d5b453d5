# corpus: sums of squares without the square root
# catches: test_lstm
# says: SQUARES

import torch


def input_gradient_norms(model, inputs):
    x = inputs.detach().requires_grad_()
    out, _ = model(x)
    (grad,) = torch.autograd.grad(out[:, -1].sum(), x)
    return (grad[0] ** 2).sum(dim=-1)
