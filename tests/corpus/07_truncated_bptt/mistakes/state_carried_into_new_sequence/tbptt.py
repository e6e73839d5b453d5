# corpus: keeps the state in a global, so a new sequence starts from the last one's state
# catches: test_new_sequence
# says: started from the state the previous call left
# must not say: reset every chunk

STATE = None


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    global STATE
    model.train()
    losses = []
    for start in range(0, inputs.size(1), chunk_len):
        x = inputs[:, start : start + chunk_len]
        y = targets[:, start : start + chunk_len]
        optimizer.zero_grad()
        predictions, STATE = model(x, STATE)
        loss = criterion(predictions, y)
        loss.backward()
        optimizer.step()
        STATE = tuple(s.detach() for s in STATE)
        losses.append(loss.item())
    return losses
