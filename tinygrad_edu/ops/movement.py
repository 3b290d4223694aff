"""Primitives that move elements around without changing them: their gradients move back."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu import function
from tinygrad_edu.function import Function
from tinygrad_edu.ops import dual


class Reshape(Function):
    """z = x with a new shape;   dz/dx = 1 (the gradient reshaped back)"""

    returns_view = True

    def __init__(self, shape: tuple) -> None:
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, grad: Any) -> Any:
        return grad.reshape(self.in_shape)


class Transpose(Function):
    """z = x with its axes permuted;   dz/dx = 1 (the gradient permuted back)"""

    returns_view = True

    def __init__(self, axes: tuple | None) -> None:
        self.axes = axes

    def forward(self, x: np.ndarray) -> np.ndarray:
        axes = self.axes if self.axes is not None else tuple(reversed(range(x.ndim)))
        self.inverse = tuple(int(i) for i in np.argsort(axes))
        return np.transpose(x, axes)

    def backward(self, grad: Any) -> Any:
        return grad.transpose(self.inverse)


class BroadcastTo(Function):
    """z = x repeated to a larger shape;   dz/dx = 1 (the gradient summed back)"""

    returns_view = True

    def __init__(self, shape: tuple) -> None:
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.in_shape = x.shape
        return np.broadcast_to(x, self.shape)

    def backward(self, grad: Any) -> Any:
        return dual.sum_to_shape(grad, self.in_shape)


class Getitem(Function):
    """z = x[index];   dz/dx = 1 at the picked elements, summed where picked twice"""

    returns_view = True

    def __init__(self, index: tuple) -> None:
        self.index = index

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.in_shape = x.shape
        return x[self.index]

    def backward(self, grad: Any) -> Any:
        return scatter_add(grad, self.index, self.in_shape)

    def describe_error(self, inputs: tuple, err: Exception) -> str:
        return (
            f"Getitem: index {self.index!r} does not fit a tensor of shape {inputs[0].shape}: {err}"
        )


class ScatterAdd(Function):
    """z = zeros(shape) with x added at index;   dz/dx = the gradient at index"""

    def __init__(self, index: tuple, shape: tuple) -> None:
        self.index, self.shape = index, shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        return scatter_add(x, self.index, self.shape)

    def backward(self, grad: Any) -> Any:
        return grad[self.index]


class Cat(Function):
    """z = [x1, x2, ...] joined along axis;   dz/dxi = the gradient's slice for xi"""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        z = np.concatenate(xs, axis=self.axis)
        axis = self.axis % z.ndim
        ends = np.cumsum([x.shape[axis] for x in xs]).tolist()
        before = (slice(None),) * axis
        self.pieces = [before + (slice(e - x.shape[axis], e),) for x, e in zip(xs, ends)]
        return z

    def backward(self, grad: Any) -> tuple:
        return tuple(grad[piece] for piece in self.pieces)


class Stack(Function):
    """z = [x1, x2, ...] stacked along a new axis;   dz/dxi = the gradient's i-th slice"""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        z = np.stack(xs, axis=self.axis)
        before = (slice(None),) * (self.axis % z.ndim)
        self.pieces = [before + (i,) for i in range(len(xs))]
        return z

    def backward(self, grad: Any) -> tuple:
        return tuple(grad[piece] for piece in self.pieces)


def is_basic_index(index: tuple) -> bool:
    """True when `index` holds only ints, slices, None and Ellipsis (no arrays)."""
    return all(isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in index)


def scatter_add(x: Any, index: tuple, shape: tuple) -> Any:
    """A zero array of `shape` with x added at `index`; repeated indices add up.

    The backward of indexing (and, in reverse, indexing is the backward of this).
    """
    if isinstance(x, function.Tensor):  # recording a graph: the differentiable op
        return ScatterAdd.apply(x, index=index, shape=shape)
    out = np.zeros(shape, dtype=x.dtype)
    if is_basic_index(index):
        out[index] = x  # a basic index never names an element twice
    else:
        np.add.at(out, index, x)
    return out
