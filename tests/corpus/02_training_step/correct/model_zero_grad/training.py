# corpus: model.zero_grad() and float(loss)
# expects: full marks


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    model.zero_grad()
    outputs = model(inputs)
    loss = criterion(outputs, targets)
    loss.backward()
    optimizer.step()
    return float(loss)
