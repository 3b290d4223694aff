"""Making tensors: constants, ranges and random numbers from one seeded generator."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.tensor import Tensor, get_default_dtype

_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the global generator behind randn/rand (and nn's initialisation): runs repeat."""
    global _rng
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative int, got {seed!r}")
    _rng = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    """The global numpy Generator (reseeded by manual_seed)."""
    return _rng


def _shape(shape: tuple, fn: str) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{fn}: a shape holds non-negative ints, got {shape!r}")
    return tuple(int(n) for n in shape)


def _float_dtype(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def _leaf(data: np.ndarray, requires_grad: bool, name: str | None = None) -> Tensor:
    t = Tensor._make(data)
    t.name = name
    return t.requires_grad_(True) if requires_grad else t


def zeros(
    *shape: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """A tensor of zeros, e.g. `tg.zeros(2, 3)` or `tg.zeros((2, 3))`."""
    return _leaf(np.zeros(_shape(shape, "zeros"), _float_dtype(dtype)), requires_grad, name)


def ones(
    *shape: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """A tensor of ones, e.g. `tg.ones(2, 3)`."""
    return _leaf(np.ones(_shape(shape, "ones"), _float_dtype(dtype)), requires_grad, name)


def full(shape: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of one value; the dtype follows the value (float -> default float) unless given.

    >>> tg.full((2, 2), 0.5)
    """
    shape = _shape((shape,) if isinstance(shape, (int, np.integer)) else (shape,), "full")
    data = Tensor(fill_value, dtype=dtype).data
    return _leaf(np.full(shape, data, dtype=data.dtype), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with t's shape and (unless given) dtype."""
    return _leaf(np.zeros(t.shape, dtype or t.dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with t's shape and (unless given) dtype."""
    return _leaf(np.ones(t.shape, dtype or t.dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The n-by-m identity matrix (m = n unless given)."""
    _shape((n,) if m is None else (n, m), "eye")
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values in [start, stop); int64 for int arguments, else the default float.

    >>> tg.arange(3)
    Tensor([0, 1, 2])
    """
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    ints = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
    if dtype is None:
        dtype = np.int64 if ints else get_default_dtype()
    return Tensor._make(np.arange(start, stop, step, dtype=dtype))


def randn(
    *shape: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """Samples of the standard normal distribution (mean 0, variance 1)."""
    dtype = _float_dtype(dtype)
    data = _rng.standard_normal(_shape(shape, "randn")).astype(dtype, copy=False)
    return _leaf(data, requires_grad, name)


def rand(
    *shape: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """Samples of the uniform distribution on [0, 1)."""
    dtype = _float_dtype(dtype)
    data = _rng.random(_shape(shape, "rand")).astype(dtype, copy=False)
    return _leaf(data, requires_grad, name)
