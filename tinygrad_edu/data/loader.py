"""DataLoader: walk through (X, y) in mini-batches, reshuffled every epoch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_edu import creation
from tinygrad_edu.tensor import Tensor


def _as_array(data: Any, name: str) -> np.ndarray:
    """The numpy array behind X or y (a Tensor's own array, not a copy)."""
    if isinstance(data, Tensor):
        data = data.numpy()
    if not isinstance(data, np.ndarray):
        raise TypeError(
            f"DataLoader: {name} should be a numpy array or a Tensor, got {type(data).__name__}; "
            f"wrap it with np.asarray({name}) first"
        )
    if data.ndim == 0:
        raise ValueError(f"DataLoader: {name} needs a first dimension (one row per sample)")
    return data


class DataLoader:
    """Iterate over `(xb, yb)` mini-batches of two arrays that share their first dimension.

    X has shape (n, ...) and y shape (n, ...) (numpy arrays or Tensors). Each epoch (each `for`
    loop over the loader) yields Tensors xb of shape (batch_size, ...) and yb of shape
    (batch_size, ...), keeping the dtypes of X and y; the last batch is shorter when batch_size
    does not divide n, unless `drop_last` drops it. `len(loader)` is the number of batches.

    With `shuffle`, every epoch visits the samples in a fresh random order drawn from the
    loader's own generator `np.random.default_rng(seed)`: two loaders with the same seed give the
    same batches, epoch after epoch. With `seed=None` the order comes from the global generator,
    so `tg.manual_seed` makes it repeat. Every batch is a new array: changing it never changes X.

    >>> X, y = tg.datasets.load_digits()
    >>> loader = tg.data.DataLoader(X, y, batch_size=64, seed=0)
    >>> len(loader)
    29
    >>> for xb, yb in loader:
    ...     pass                      # xb: Tensor (64, 64) float32, yb: Tensor (64,) int64
    """

    def __init__(
        self,
        X: np.ndarray | Tensor,
        y: np.ndarray | Tensor,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
        self.X = _as_array(X, "X")
        self.y = _as_array(y, "y")
        if len(self.X) != len(self.y):
            raise ValueError(
                f"DataLoader: X and y need the same number of samples (first dimension), "
                f"got X with {len(self.X)} and y with {len(self.y)}"
            )
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool):
            raise TypeError(
                f"DataLoader: batch_size should be a positive int, got {type(batch_size).__name__}"
            )
        if batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size should be a positive int, got {batch_size}")
        if seed is not None and (
            not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0
        ):
            raise ValueError(f"DataLoader: seed should be None or a non-negative int, got {seed!r}")
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(int(seed))

    def __len__(self) -> int:
        """Number of batches in one epoch."""
        n = len(self.X)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        # The order is drawn now, when the epoch starts, not at the first batch.
        order = None
        if self.shuffle:
            # seed=None: ask for the global generator each epoch, as manual_seed replaces it
            rng = self._rng if self._rng is not None else creation.generator()
            order = rng.permutation(len(self.X))
        return self._batches(order)

    def _batches(self, order: np.ndarray | None) -> Iterator[tuple[Tensor, Tensor]]:
        for k in range(len(self)):
            start, stop = k * self.batch_size, (k + 1) * self.batch_size
            rows = slice(start, stop) if order is None else order[start:stop]
            # A slice is a view and a fancy index a copy; Tensor() copies once more, so a batch
            # never shares memory with X or y. The dtypes stay as they are.
            yield Tensor(self.X[rows]), Tensor(self.y[rows])

    def __repr__(self) -> str:
        return (
            f"DataLoader(samples={len(self.X)}, X={self.X.shape} {self.X.dtype}, "
            f"y={self.y.shape} {self.y.dtype}, batch_size={self.batch_size}, "
            f"batches={len(self)}, shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
