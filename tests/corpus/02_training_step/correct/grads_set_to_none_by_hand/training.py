# corpus: clears each .grad by hand (set to None), then trains; returns loss.item()
# expects: full marks


def train_step(model, inputs, targets, criterion, optimizer):
    model.train(True)
    for p in model.parameters():
        p.grad = None
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()
