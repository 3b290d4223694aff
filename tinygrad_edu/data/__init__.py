"""Feeding data to a model in mini-batches."""

from tinygrad_edu.data.loader import DataLoader

__all__ = ["DataLoader"]
