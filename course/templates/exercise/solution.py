"""Reference solution: __title__."""

import torch


def __stem__(x: torch.Tensor) -> torch.Tensor:
    return x  # TODO: the reference: short, with the shape of each line in a comment
