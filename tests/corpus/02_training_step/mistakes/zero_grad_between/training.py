# corpus: zero_grad between backward and step
# catches: test_sgd_momentum_mse
# says: between loss.backward() and optimizer.step()


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()
