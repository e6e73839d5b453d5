# corpus: one leaf per time step, autograd.grad over the list, a norm per step
# expects: full marks

import torch
def input_gradient_norms(model, inputs):
    steps = [inputs[:, t].detach().clone().requires_grad_() for t in range(inputs.size(1))]
    with torch.enable_grad():
        out, _ = model(torch.stack(steps, dim=1))
        grads = torch.autograd.grad(out[:, -1].sum(), steps)
    return torch.stack([g.norm() for g in grads])
