"""Module 12 of 26 of *Deep Learning with PyTorch*: Long Short-Term Memory networks."""

__version__ = "0.1.0"
