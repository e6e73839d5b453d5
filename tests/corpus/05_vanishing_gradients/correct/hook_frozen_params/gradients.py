# corpus: a hook on the input copy, parameters frozen during backward and restored
# expects: full marks
import torch


def input_gradient_norms(model, inputs):
    captured = []
    x = inputs.detach().clone()
    x.requires_grad = True
    x.register_hook(lambda g: captured.append(g.detach().clone()))
    params = [p for p in model.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        y, _ = model(x)
        y[0, -1].sum().backward()
    finally:
        for p, f in zip(params, flags):
            p.requires_grad_(f)
    g = captured[0]
    return g.pow(2).sum(-1).sqrt().flatten()
