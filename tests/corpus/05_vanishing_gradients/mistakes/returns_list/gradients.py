# corpus: the norms as a Python list of tensors
# catches: test_rnn
# says: a list of 12
# must not say: tensor(
import torch


def input_gradient_norms(model, inputs):
    x = inputs.detach().requires_grad_()
    out, _ = model(x)
    (grad,) = torch.autograd.grad(out[:, -1].sum(), x)
    return [g.norm() for g in grad[0]]
