# corpus: clips each gradient VALUE (clip_grad_value_) between backward and step
# catches: test_sgd_momentum_mse
# says: changed .grad in between
# must not say: match none of the usual mistakes
import torch


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets)
    loss.backward()
    torch.nn.utils.clip_grad_value_(model.parameters(), 0.05)
    optimizer.step()
    return loss.item()
