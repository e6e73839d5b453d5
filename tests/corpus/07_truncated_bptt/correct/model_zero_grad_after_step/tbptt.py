# corpus: clears the gradients after each step (and once before the loop), chunks by index
# expects: full marks


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    model.train()
    model.zero_grad()
    steps = inputs.shape[1]
    n_chunks = (steps + chunk_len - 1) // chunk_len
    h = c = None
    losses = []
    for k in range(n_chunks):
        part = slice(k * chunk_len, min(steps, (k + 1) * chunk_len))
        predictions, (h, c) = model(inputs[:, part], None if h is None else (h, c))
        loss = criterion(predictions, targets[:, part])
        loss.backward()
        optimizer.step()
        model.zero_grad()
        h, c = h.detach(), c.detach()
        losses.append(loss.item())
    return losses
