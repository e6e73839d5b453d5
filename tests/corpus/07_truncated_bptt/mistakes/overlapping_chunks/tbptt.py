# corpus: chunks that overlap by one step (stride chunk_len - 1)
# catches: test_one_sequence
# says: without overlap or gap
# must not say: reset every chunk


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    model.train()
    state = None
    losses = []
    for start in range(0, inputs.size(1) - 1, chunk_len - 1):
        x = inputs[:, start : start + chunk_len]
        y = targets[:, start : start + chunk_len]
        optimizer.zero_grad()
        predictions, state = model(x, state)
        loss = criterion(predictions, y)
        loss.backward()
        optimizer.step()
        state = tuple(s.detach() for s in state)
        losses.append(loss.item())
    return losses
