"""Exercise 2: one training step. Read README.md beside this file first.

Grade it with:  course grade exercises/02_training_step
"""


def train_step(model, inputs, targets, criterion, optimizer):
    """Run one optimisation step of `model` on one batch and return its loss as a float."""
    # TODO: put the model in training mode
    # TODO: clear the gradients left over from the previous step
    # TODO: forward pass, then the loss with criterion(outputs, targets)
    # TODO: backward pass, then the optimizer step
    # TODO: return the loss of this forward pass as a Python float
    raise NotImplementedError("TODO: one training step")
