# corpus: the loss is computed from a detached output, so no gradient reaches the parameters
# catches: test_sgd_momentum_mse
# says: no gradient reaches the parameters
# must not say: BEFORE


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    outputs = model(inputs).detach().requires_grad_()
    loss = criterion(outputs, targets)
    loss.backward()
    optimizer.step()
    return loss.item()
