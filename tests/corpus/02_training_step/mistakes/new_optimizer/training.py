# corpus: a new optimizer inside the step
# catches: test_adam_mse
# says: new optimizer


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer = type(optimizer)(model.parameters(), **optimizer.defaults)
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()
