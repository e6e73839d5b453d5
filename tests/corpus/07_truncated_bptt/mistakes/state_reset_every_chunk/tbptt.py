# corpus: starts every chunk from a zero state
# catches: test_one_sequence
# says: the state is reset every chunk
# must not say: detach
# must not say: the previous call left


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    model.train()
    losses = []
    for start in range(0, inputs.size(1), chunk_len):
        state = None
        x = inputs[:, start : start + chunk_len]
        y = targets[:, start : start + chunk_len]
        optimizer.zero_grad()
        predictions, state = model(x, state)
        loss = criterion(predictions, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
