# corpus: returns the loss of a second forward after the update
# catches: test_returns_the_loss
# says: AFTER the update


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return criterion(model(inputs), targets).item()
