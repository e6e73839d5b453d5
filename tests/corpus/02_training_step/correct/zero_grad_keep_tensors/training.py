# corpus: zero_grad(set_to_none=False), clearing at the end for the next step too
# expects: full marks


def train_step(model, inputs, targets, criterion, optimizer):
    model.train(True)
    optimizer.zero_grad(set_to_none=False)
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
    value = loss.detach().item()
    optimizer.zero_grad()
    return value
