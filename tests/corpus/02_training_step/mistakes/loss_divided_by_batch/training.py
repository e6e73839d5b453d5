# corpus: divides the (already averaged) loss by the batch size: another loss, the right order
# catches: test_sgd_momentum_mse
# says: what was backpropagated differs
# must not say: changed .grad in between
# must not say: The right order is


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets) / len(inputs)
    loss.backward()
    optimizer.step()
    return loss.item()
