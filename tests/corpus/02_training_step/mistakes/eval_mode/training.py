# corpus: never switches to training mode
# catches: test_training_mode
# says: model.train()


def train_step(model, inputs, targets, criterion, optimizer):
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()
