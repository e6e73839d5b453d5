# corpus: chunks that skip one step between them (x[start + 1 : ...])
# catches: test_one_sequence
# says: the time steps 1:5, 6:10


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    model.train()
    state = None
    losses = []
    for start in range(0, inputs.size(1), chunk_len):
        x = inputs[:, start + 1 : start + chunk_len]
        y = targets[:, start + 1 : start + chunk_len]
        optimizer.zero_grad()
        predictions, state = model(x, state)
        loss = criterion(predictions, y)
        loss.backward()
        optimizer.step()
        state = tuple(s.detach() for s in state)
        losses.append(loss.item())
    return losses
