# corpus: step before backward
# catches: test_sgd_momentum_mse
# says: BEFORE loss.backward()


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets)
    optimizer.step()
    loss.backward()
    return loss.item()
