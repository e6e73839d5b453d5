# corpus: makes its own Adam with another learning rate in every step, in the right order
# catches: test_adam_mse
# says: another optimizer
# must not say: The right order is
# must not say: match none of the usual mistakes
import torch


def train_step(model, inputs, targets, criterion, optimizer):
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()
