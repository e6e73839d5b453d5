# corpus: backward(), then model.zero_grad(): the caller's gradients are lost
# catches: test_leaves_model_as_found
# says: erased

import torch


def input_gradient_norms(model, inputs):
    x = inputs.detach().requires_grad_()
    model.zero_grad()
    out, _ = model(x)
    out[:, -1].sum().backward()
    model.zero_grad()
    return x.grad[0].norm(dim=-1)
