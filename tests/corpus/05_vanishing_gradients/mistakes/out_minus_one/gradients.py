# corpus: out[-1] as if time were dimension 0: with a batch of one, every step of the sequence
# catches: test_rnn
# says: out[-1]
import torch


def input_gradient_norms(model, inputs):
    x = inputs.detach().requires_grad_()
    out, _ = model(x)
    (g,) = torch.autograd.grad(out[-1].sum(), x)  # thinks dim 0 is time
    return g[0].norm(dim=-1)
