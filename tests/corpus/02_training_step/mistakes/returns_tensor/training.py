# corpus: returns the loss tensor
# catches: test_returns_the_loss
# says: loss.item()


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss
