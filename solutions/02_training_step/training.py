"""Reference solution: one optimisation step."""


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()  # dropout and friends behave as in training
    optimizer.zero_grad()  # 1. forget the gradients of the previous step
    outputs = model(inputs)  # 2. forward
    loss = criterion(outputs, targets)  # 3. loss: (prediction, target)
    loss.backward()  # 4. gradients of this loss only
    optimizer.step()  # 5. update the parameters
    return loss.item()  # the loss of this forward pass, as a Python float
