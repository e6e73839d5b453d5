# corpus: differentiates h_n[0], the bottom layer of a two-layer network
# catches: test_rnn
# says: BOTTOM layer
# must not say: matches none of the usual mistakes
import torch


def input_gradient_norms(model, inputs):
    x = inputs.detach().requires_grad_()
    _, state = model(x)
    h_n = state[0] if isinstance(state, tuple) else state
    (g,) = torch.autograd.grad(h_n[0].sum(), x)
    return g[0].norm(dim=-1)
