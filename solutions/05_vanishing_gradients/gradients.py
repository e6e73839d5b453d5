"""Reference solution: how far back does a gradient reach through a recurrent layer?

For a sequence x_1 ... x_T, take the top layer's output at the last step, y_T, and ask how
strongly it depends on each input: the norm of d(sum of y_T) / d(x_t) for every t. In a plain
tanh RNN this norm shrinks roughly geometrically with the distance T - t, because the gradient
is a product of T - t Jacobians; an LSTM's cell state gives it a path that decays far slower.
"""

import torch
from torch import nn


def input_gradient_norms(model: nn.RNN | nn.LSTM, inputs: torch.Tensor) -> torch.Tensor:
    """Return the L2 norm of d(sum of the last output) / d(input at step t), for every step t."""
    assert model.batch_first, "the model must be built with batch_first=True"
    assert inputs.dim() == 3 and inputs.size(0) == 1, (
        f"inputs must be one sequence, (1, seq_len, input_size), got {tuple(inputs.shape)}"
    )
    x = inputs.detach().requires_grad_()  # a new leaf: the caller's tensor is left alone
    with torch.enable_grad():
        out, _ = model(x)  # (1, seq_len, hidden_size), the top layer at every step
        # 1. autograd.grad, not backward(): nothing is accumulated into the parameters' .grad
        (grad,) = torch.autograd.grad(out[:, -1].sum(), x)  # (1, seq_len, input_size)
    # 2. one norm per time step
    return torch.linalg.vector_norm(grad[0], dim=-1)  # (seq_len,)
