# corpus: the gradient of the outputs at every step
# catches: test_rnn
# says: EVERY time step

import torch


def input_gradient_norms(model, inputs):
    x = inputs.detach().requires_grad_()
    out, _ = model(x)
    (grad,) = torch.autograd.grad(out.sum(), x)
    return grad[0].norm(dim=-1)
