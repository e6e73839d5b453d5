# corpus: backward every chunk but one optimizer step after the whole sequence
# catches: test_one_sequence
# says: one optimizer.step() at the very end
# must not say: never clears the gradients


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    model.train()
    state = None
    losses = []
    optimizer.zero_grad()
    for start in range(0, inputs.size(1), chunk_len):
        x = inputs[:, start : start + chunk_len]
        y = targets[:, start : start + chunk_len]
        predictions, state = model(x, state)
        loss = criterion(predictions, y)
        loss.backward()
        state = tuple(s.detach() for s in state)
        losses.append(loss.item())
    optimizer.step()
    return losses
