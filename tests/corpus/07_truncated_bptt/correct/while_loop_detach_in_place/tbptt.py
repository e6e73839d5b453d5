# corpus: a while loop, the state detached with detach_() after backward
# expects: full marks


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    model.train()
    state, start, losses = None, 0, []
    while start < inputs.size(1):
        end = start + chunk_len
        optimizer.zero_grad()
        predictions, state = model(inputs[:, start:end], state)
        loss = criterion(predictions, targets[:, start:end])
        loss.backward()
        optimizer.step()
        for s in state:
            s.detach_()
        losses.append(loss.item())
        start = end
    return losses
