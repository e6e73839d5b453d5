# corpus: clips the gradient norm to 1.0 between backward and step, as the lesson does
# expects: full marks
import torch


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss.item()
