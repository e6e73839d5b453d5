# corpus: clips the gradient norm to 0.5 (not the lesson's 1.0) between backward and step
# expects: full marks
import torch


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
    optimizer.step()
    return loss.item()
