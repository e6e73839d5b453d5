"""Reference solution: truncated backpropagation through time."""


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    model.train()
    state = None  # a new sequence starts from a zero state
    losses = []
    for start in range(0, inputs.size(1), chunk_len):  # the last chunk may be shorter
        x = inputs[:, start : start + chunk_len]  # (batch, chunk, features)
        y = targets[:, start : start + chunk_len]
        optimizer.zero_grad()
        predictions, state = model(x, state)
        loss = criterion(predictions, y)
        loss.backward()  # through this chunk only
        optimizer.step()
        state = tuple(s.detach() for s in state)  # carry the values, cut the graph
        losses.append(float(loss))  # a Python float, like loss.item()
    return losses
