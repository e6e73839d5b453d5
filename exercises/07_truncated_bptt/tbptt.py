"""Exercise 7: truncated backpropagation through time. Read README.md beside this file first.

Grade it with:  course grade exercises/07_truncated_bptt
"""


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    """Train `model` on one long sequence in chunks of `chunk_len` steps, carrying the state
    from chunk to chunk, with one optimizer step per chunk; return each chunk's loss."""
    # TODO 1: put the model in training mode; a new sequence starts with state = None
    # TODO 2: for each chunk of chunk_len time steps (the last may be shorter):
    #   clear the gradients, run the model from the carried state, the loss,
    #   backward, step
    # TODO 3: carry the state's values into the next chunk but cut its graph: detach()
    # TODO 4: return the list of the chunks' losses, as Python floats
    raise NotImplementedError("TODO: truncated backpropagation through time")
