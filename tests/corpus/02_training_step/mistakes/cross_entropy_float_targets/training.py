# corpus: criterion(outputs, targets.float()): the order is right, CrossEntropyLoss wants class indices
# catches: test_loss_argument_order
# says: the targets converted to float32
# must not say: swapped
# must not say: targets first


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    outputs = model(inputs)
    loss = criterion(outputs, targets.float())
    loss.backward()
    optimizer.step()
    return loss.item()
