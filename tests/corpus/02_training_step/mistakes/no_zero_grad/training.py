# corpus: gradients never cleared
# catches: test_sgd_momentum_mse
# says: zero_grad()


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()
