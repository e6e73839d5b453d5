# corpus: criterion(targets, outputs)
# catches: test_loss_argument_order
# says: criterion(outputs, targets)


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = criterion(targets, model(inputs))
    loss.backward()
    optimizer.step()
    return loss.item()
