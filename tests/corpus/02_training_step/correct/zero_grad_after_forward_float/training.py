# corpus: model.zero_grad after the forward pass, float(loss) returned
# expects: full marks


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    loss = criterion(model(inputs), targets)
    model.zero_grad(set_to_none=False)
    loss.backward()
    optimizer.step()
    return float(loss.detach().cpu())
