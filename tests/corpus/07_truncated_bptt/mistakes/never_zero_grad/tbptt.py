# corpus: never clears the gradients between chunks
# catches: test_one_sequence
# says: never clears the gradients
# must not say: at the very end


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    model.train()
    state = None
    losses = []
    for start in range(0, inputs.size(1), chunk_len):
        x = inputs[:, start : start + chunk_len]
        y = targets[:, start : start + chunk_len]
        predictions, state = model(x, state)
        loss = criterion(predictions, y)
        loss.backward()
        optimizer.step()
        state = tuple(s.detach() for s in state)
        losses.append(loss.item())
    return losses
