# corpus: counts whole chunks only, so the shorter last chunk is never trained
# catches: test_uneven_length
# says: the last may be shorter


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    model.train()
    state = None
    losses = []
    for i in range(inputs.size(1) // chunk_len):
        x = inputs[:, i * chunk_len : (i + 1) * chunk_len]
        y = targets[:, i * chunk_len : (i + 1) * chunk_len]
        optimizer.zero_grad()
        predictions, state = model(x, state)
        loss = criterion(predictions, y)
        loss.backward()
        optimizer.step()
        state = tuple(s.detach() for s in state)
        losses.append(loss.item())
    return losses
