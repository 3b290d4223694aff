"""Reductions over an axis (None, an int, or a tuple of ints), and the log-softmax."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.function import Function
from tinygrad_edu.ops import dual


def normalize_axes(axis: int | tuple | None, ndim: int) -> tuple:
    """The reduced axes as a sorted tuple of non-negative ints (numpy's rules and errors)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} names the same dimension twice")
    return tuple(sorted(out))


def kept_shape(shape: tuple, axes: tuple) -> tuple:
    """`shape` with the reduced axes kept as size 1 (the shape `keepdims=True` gives)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """z = sum of x over axis;   dz/dx = 1 (the gradient is copied to every summed element)"""

    def __init__(self, axis: tuple, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.in_shape = x.shape
        return np.sum(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, grad: Any) -> Any:
        grad = grad.reshape(kept_shape(self.in_shape, self.axis))
        return dual.broadcast_to(grad, self.in_shape)


class Max(Function):
    """z = max of x over axis;   dz/dx = 1/k at the k elements equal to the max, else 0"""

    reduce = staticmethod(np.max)

    def __init__(self, axis: tuple, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        z = self.reduce(x, axis=self.axis, keepdims=True)
        hit = x == z
        # ties share the gradient evenly, like torch.amax
        self.save_for_backward(hit / hit.sum(axis=self.axis, keepdims=True).astype(x.dtype))
        if self.keepdims:
            return z
        return z.reshape([n for i, n in enumerate(z.shape) if i not in self.axis])

    def backward(self, grad: Any) -> Any:
        (share,) = self.saved_tensors
        return grad.reshape(kept_shape(share.shape, self.axis)) * share


class Min(Max):
    """z = min of x over axis;   dz/dx = 1/k at the k elements equal to the min, else 0"""

    reduce = staticmethod(np.min)


class LogSoftmax(Function):
    """z = x - log(sum(exp(x)));   dL/dx = g - softmax(x) * sum(g)   (g = dL/dz)"""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: np.ndarray) -> np.ndarray:
        # shifting by the max keeps exp() in range for logits of any size
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        z = shifted - np.log(np.sum(np.exp(shifted), axis=self.axis, keepdims=True))
        self.save_for_backward(z)
        return z

    def backward(self, grad: Any) -> Any:
        (z,) = self.saved_tensors
        return grad - dual.exp(z) * grad.sum(axis=self.axis, keepdims=True)
