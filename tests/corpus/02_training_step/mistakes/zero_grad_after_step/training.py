# corpus: zero_grad at the end of the step: the first update applies the stale gradients too
# catches: test_sgd_momentum_mse
# says: AFTER optimizer.step()
# must not say: match none of the usual mistakes
def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()
