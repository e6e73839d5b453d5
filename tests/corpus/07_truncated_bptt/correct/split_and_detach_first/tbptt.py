# corpus: torch.split over time, the state detached before each chunk (none at the start)
# expects: full marks
import torch


def train_tbptt(model, inputs, targets, chunk_len, criterion, optimizer):
    model.train()
    h_c = None
    losses = []
    for x, y in zip(torch.split(inputs, chunk_len, dim=1), torch.split(targets, chunk_len, dim=1)):
        if h_c is not None:
            h_c = (h_c[0].detach(), h_c[1].detach())
        optimizer.zero_grad(set_to_none=True)
        out, h_c = model(x, h_c)
        loss = criterion(out, y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    return losses
