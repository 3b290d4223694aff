"""The few functions backward formulas need that numpy arrays and Tensors spell differently.

A backward formula receives numpy arrays in a plain backward and Tensors when it records a graph
(`create_graph=True`); see `function.py`. Operators (`+ * @`) and shared methods
(`.sum .reshape .swapaxes .astype`) work on both; for the rest, each helper here picks the numpy
function or the differentiable Tensor op.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu import function


def exp(x: Any) -> Any:
    """e**x, elementwise."""
    return x.exp() if isinstance(x, function.Tensor) else np.exp(x)


def log(x: Any) -> Any:
    """Natural logarithm, elementwise."""
    return x.log() if isinstance(x, function.Tensor) else np.log(x)


def clip_min(x: Any, lo: float) -> Any:
    """max(x, lo), elementwise."""
    return x.clip(lo=lo) if isinstance(x, function.Tensor) else np.maximum(x, lo)


def broadcast_to(x: Any, shape: tuple) -> Any:
    """Repeat x along its size-1 (or missing leading) axes to `shape`."""
    return x.broadcast_to(shape) if isinstance(x, function.Tensor) else np.broadcast_to(x, shape)


def sum_to_shape(x: Any, shape: tuple) -> Any:
    """Undo broadcasting: add x up over the axes that broadcasting stretched, to get `shape`.

    The one place where broadcasting is handled: the engine passes every gradient through it.
    """
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
    )
    if axes:
        x = x.sum(axis=axes, keepdims=True)
    return x.reshape(shape)
