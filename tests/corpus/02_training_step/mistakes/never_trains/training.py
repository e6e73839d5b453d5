# corpus: computes and returns the loss, but never calls backward or step
# catches: test_sgd_momentum_mse
# says: never calls loss.backward() or optimizer.step()


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    return criterion(model(inputs), targets).item()
