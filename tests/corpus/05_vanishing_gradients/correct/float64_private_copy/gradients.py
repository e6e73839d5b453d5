# corpus: a float64 deep copy of the model, the norms cast back to the inputs dtype
# expects: full marks
import copy
import torch


def input_gradient_norms(model, inputs):
    # compute in float64 on a private copy, so tiny gradients don't underflow
    m = copy.deepcopy(model).double()
    x = inputs.detach().double().requires_grad_()
    out = m(x)[0]
    grad, = torch.autograd.grad(out[:, -1].sum(), x)
    return grad[0].norm(dim=-1).to(inputs.dtype)
