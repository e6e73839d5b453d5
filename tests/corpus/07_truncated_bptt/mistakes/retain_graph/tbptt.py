# corpus: silences the error with retain_graph=True instead of detaching the state
# catches: test_one_sequence
# says: retain_graph=True only moves the error


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    model.train()
    state = None
    losses = []
    for start in range(0, inputs.size(1), chunk_len):
        x = inputs[:, start : start + chunk_len]
        y = targets[:, start : start + chunk_len]
        optimizer.zero_grad()
        predictions, state = model(x, state)
        loss = criterion(predictions, y)
        loss.backward(retain_graph=True)
        optimizer.step()
        losses.append(loss.item())
    return losses
