"""tg.optim: SGD, Adam and AdamW with PyTorch's update rules."""

from tinygrad_edu.optim.adam import Adam, AdamW
from tinygrad_edu.optim.optimizer import Optimizer
from tinygrad_edu.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]
