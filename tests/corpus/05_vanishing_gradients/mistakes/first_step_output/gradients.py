# corpus: the gradient of the first step's output
# catches: test_rnn
# says: FIRST time step

import torch


def input_gradient_norms(model, inputs):
    x = inputs.detach().requires_grad_()
    out, _ = model(x)
    (grad,) = torch.autograd.grad(out[:, 0].sum(), x)
    return grad[0].norm(dim=-1)
