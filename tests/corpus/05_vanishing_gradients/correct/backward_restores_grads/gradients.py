# corpus: backward with retain_graph, one step at a time, then the caller's gradients put back
# expects: full marks

import torch


def input_gradient_norms(model, inputs):
    saved = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    x = inputs.detach().clone().requires_grad_()
    with torch.enable_grad():
        out, _ = model(x)
        target = out[0, -1].sum()
        norms = []
        for t in range(x.shape[1]):
            x.grad = None
            target.backward(retain_graph=True)
            norms.append(x.grad[0, t].pow(2).sum().sqrt())
    for p, g in zip(model.parameters(), saved):
        p.grad = g
    return torch.stack(norms)
