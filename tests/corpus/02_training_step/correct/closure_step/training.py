# corpus: optimizer.step(closure) with zero_grad, forward, loss and backward inside the closure
# expects: full marks
def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    state = {}

    def closure():
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        state["loss"] = loss
        return loss

    optimizer.step(closure)
    return state["loss"].item()
