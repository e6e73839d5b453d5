# corpus: backward() leaves the parameters' gradients behind
# catches: test_leaves_model_as_found
# says: left gradients in the parameters' .grad

import torch


def input_gradient_norms(model, inputs):
    x = inputs.clone().requires_grad_(True)
    out, _ = model(x)
    out[:, -1].sum().backward()
    return x.grad.squeeze(0).norm(dim=1)
