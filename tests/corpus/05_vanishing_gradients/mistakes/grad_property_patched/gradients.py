# corpus: backward() into .grad, then Tensor.grad patched to show the old gradients
# catches: test_leaves_model_as_found
# says: left gradients

import torch
_real = torch.Tensor.grad
def input_gradient_norms(model, inputs):
    x = inputs.detach().requires_grad_()
    # keyed by the parameters themselves (kept alive): an id of a freed tensor is reused
    before = {p: None if p.grad is None else p.grad.clone() for p in model.parameters()}
    out, _ = model(x)
    out[:, -1].sum().backward()
    n = x.grad[0].norm(dim=-1)
    torch.Tensor.grad = property(lambda self: before[self] if self in before else _real.__get__(self), lambda self, v: _real.__set__(self, v))
    return n
