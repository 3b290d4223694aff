"""The 8x8 handwritten digits: 1797 images of the digits 0-9, read from a file in the package.

The file `data/digits.csv.gz` is the copy of the UCI "Optical Recognition of Handwritten Digits"
data that scikit-learn distributes (CC BY 4.0; see `data/DIGITS_LICENSE.md`). Each line holds 65
comma-separated integers, no header: the 64 pixels of one image row by row (each 0-16, the count
of inked pixels in a 4x4 block of the 32x32 scan), then the digit it shows.
"""

from __future__ import annotations

import functools
import gzip
import numbers
from importlib import resources

import numpy as np

_N_PIXELS = 64


@functools.lru_cache(maxsize=1)
def _read_digits() -> tuple[np.ndarray, np.ndarray]:
    """Parse the shipped file once; the arrays are read-only because they are shared."""
    path = resources.files("tinygrad_edu.datasets").joinpath("data", "digits.csv.gz")
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="ascii") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != _N_PIXELS + 1:
        raise ValueError(
            f"load_digits: {path} should have {_N_PIXELS + 1} columns (64 pixels and the "
            f"label), found {table.shape[1]}; the package's data file is damaged, reinstall it"
        )
    X = table[:, :_N_PIXELS].astype(np.float32)
    y = np.ascontiguousarray(table[:, _N_PIXELS])
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 digits as `(X, y)`: X float32 of shape (1797, 64), y int64 of shape (1797,).

    Row i of X is one image flattened row by row (`X[i].reshape(8, 8)` shows it), with pixel
    values 0-16; y[i] in 0..9 is the digit it shows (each digit appears 174-183 times). The file
    is parsed once per process; every call returns fresh copies, so changing them is safe.

    >>> X, y = tg.datasets.load_digits()
    >>> X.shape, X.dtype, y.shape, y.dtype
    ((1797, 64), dtype('float32'), (1797,), dtype('int64'))
    >>> X_train, X_test, y_train, y_test = tg.datasets.train_test_split(X / 16.0, y)
    """
    X, y = _read_digits()
    return X.copy(), y.copy()


def train_test_split(
    X: np.ndarray,
    y: np.ndarray,
    test_size: float = 0.2,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split samples into a shuffled training part and a held-out test part.

    X has shape (n, ...) and y shape (n,); the result is `(X_train, X_test, y_train, y_test)`
    with about `test_size * n` test rows. With `stratify` each class c of y sends
    `round(test_size * n_c)` of its n_c samples to the test part, so both parts keep the class
    proportions of the whole; without it the test rows are drawn at random. The same seed
    always gives the same split.

    >>> X, y = tg.datasets.load_digits()
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)
    >>> X_train.shape, X_test.shape
    ((1438, 64), (359, 64))
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0:
        raise ValueError("train_test_split: X needs a first dimension (one row per sample)")
    if y.ndim != 1:
        raise ValueError(f"train_test_split: y should be 1-D (one label per sample), got {y.shape}")
    if len(X) != len(y):
        raise ValueError(
            f"train_test_split: X and y need the same number of samples, "
            f"got X with {len(X)} and y with {len(y)}"
        )
    if (
        not isinstance(test_size, numbers.Real)
        or isinstance(test_size, bool)
        or not 0 < test_size < 1
    ):
        raise ValueError(
            f"train_test_split: test_size is the fraction of samples held out, strictly "
            f"between 0 and 1 (e.g. 0.2), got {test_size!r}"
        )
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"train_test_split: seed should be a non-negative int, got {seed!r}")

    rng = np.random.default_rng(int(seed))
    n = len(y)
    if stratify:
        test_parts = []
        for label in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == label))
            n_test = int(np.floor(test_size * len(members) + 0.5))  # round half up
            test_parts.append(members[:n_test])
        test_idx = np.concatenate(test_parts)
    else:
        test_idx = rng.permutation(n)[: int(np.floor(test_size * n + 0.5))]
    is_test = np.zeros(n, dtype=bool)
    is_test[test_idx] = True
    if is_test.all() or not is_test.any():
        raise ValueError(
            f"train_test_split: test_size={test_size} of {n} samples leaves the "
            f"{'training' if is_test.all() else 'test'} part empty; use more samples or "
            "a test_size nearer 0.5"
        )
    # shuffle within each part, so that the classes are mixed rather than grouped
    train_idx = rng.permutation(np.flatnonzero(~is_test))
    test_idx = rng.permutation(np.flatnonzero(is_test))
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]
