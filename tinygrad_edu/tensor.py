"""Tensor: a numpy array that remembers how it was made.

A Tensor holds its value in `.data` (a numpy array). When it was computed from tensors that
require grad, `.grad_fn` is the node that made it (see function.py) and `backward()` walks those
nodes from the output back to the leaves, filling in each leaf's `.grad`.

This file holds the Tensor itself: making one from data (SPEC's dtype rules), its attributes,
numpy interop, repr, and the autograd entry points (`backward`, hooks). Its two other ideas are
mixed in from files of their own: the differentiable methods (`+ * @ exp sum reshape ...`, each
a call of an op) from tensor_ops.py, and the in-place changes with their version counters from
tensor_inplace.py.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_edu import autograd, function
from tinygrad_edu.dtypes import get_default_dtype, set_default_dtype
from tinygrad_edu.formatting import tensor_html
from tinygrad_edu.tensor_inplace import InPlace
from tinygrad_edu.tensor_ops import TensorOps, cat, stack


def _array_from(data: Any, dtype: Any) -> np.ndarray:
    """Turn user data into a fresh numpy array with SPEC's dtype rules."""
    if isinstance(data, Tensor):
        arr = data.data.copy()
    elif isinstance(data, np.ndarray):
        arr = data.copy()
    elif isinstance(data, np.generic):
        arr = np.array(data)
    elif isinstance(data, (bool, numbers.Number, list, tuple)):
        try:
            arr = np.array(data)
        except ValueError as err:
            raise ValueError(
                f"Tensor() needs a rectangular nested list (every row the same length): {err}"
            ) from None
        if dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(get_default_dtype())  # Python floats become the default float dtype
        elif dtype is None and arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
    else:
        raise TypeError(
            f"Tensor() cannot be made from {type(data).__name__}; expected a number, a "
            "(nested) list of numbers, a numpy array or a Tensor"
        )
    if arr.dtype.kind not in "biuf":
        what = {"U": "strings", "S": "bytes", "O": "Python objects", "c": "complex numbers"}.get(
            arr.dtype.kind, "data"
        )
        raise TypeError(
            f"Tensor() holds numbers (bool, integer or floating-point), but was given {what} "
            f"(numpy dtype {arr.dtype}); convert them to numbers first"
        )
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    return arr


class Tensor(TensorOps, InPlace):
    """An n-dimensional array with automatic differentiation.

    >>> x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()          # y = x1² + x2² + x3²
    >>> y.backward()
    >>> x.grad                     # dy/dx = 2x
    Tensor([2., 4., 6.])
    """

    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "grad_fn",
        "name",
        "_vbox",
        "_hooks",
        "__weakref__",
    )
    __array_ufunc__ = None  # numpy defers to Tensor: `array * tensor` calls Tensor.__rmul__
    __hash__ = object.__hash__  # `==` is elementwise, so hash by identity

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: Any = None,
        name: str | None = None,
    ) -> None:
        self.data = _array_from(data, dtype)
        self.grad: Tensor | None = None
        self.grad_fn = None
        self.requires_grad = False
        self.name = name
        self._vbox = None  # version counter, made on the first in-place change
        self._hooks = None  # gradient hooks of a leaf (a non-leaf's live on its grad_fn)
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, grad_fn: Any = None) -> Tensor:
        """Wrap an array an op produced, without copying or checking (the engine's fast path)."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.grad_fn = grad_fn
        t.requires_grad = grad_fn is not None
        t.name = None
        t._vbox = None
        t._hooks = None
        return t

    # -- metadata -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements (numpy's `size`)."""
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (no grad_fn); only leaves accumulate `.grad`."""
        return self.grad_fn is None

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor: it has no first dimension")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    # -- numpy and Python interop ---------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The underlying numpy array (shared, not copied)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with exactly one element, got shape {self.shape}"
            )
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; compare "
                "element by element, or reduce first (e.g. (x > 0).sum() == x.size)"
            )
        return bool(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = []
        if self.dtype not in (get_default_dtype(), np.dtype(np.int64), np.dtype(bool)):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        return "Tensor(" + ", ".join([body, *extras]) + ")"

    def _repr_html_(self) -> str:
        """Jupyter's view: name, shape, dtype, grad_fn, the values and the grad (formatting.py)."""
        return tensor_html(self)

    # -- autograd -------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Ask for (or stop asking for) this leaf's gradient. Returns self."""
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                f"requires_grad_(False) on a tensor made by {self.grad_fn.name}: only leaves "
                "can change it; use .detach() to get a tensor outside the graph"
            )
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}; "
                f"make it with floats or dtype={get_default_dtype()} (e.g. tg.Tensor([1.0, 2.0]))"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same data (shared) as a new leaf outside the graph."""
        return Tensor._make(self.data)

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep it)."""
        autograd.retain_grad(self)

    def register_hook(self, fn: Any) -> Any:
        """Call fn(grad) when this tensor's gradient is computed; a non-None return replaces it.

        Returns a handle whose `.remove()` unregisters the hook.
        """
        return autograd.register_hook(self, fn)

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        `gradient` (the upstream gradient, same shape as self) may be left out only for a
        one-element tensor. The graph's saved values are freed afterwards unless
        `retain_graph=True`; `create_graph=True` records the backward pass itself, so the
        gradients can be differentiated again.
        """
        autograd.backward(
            [self], None if gradient is None else [gradient], retain_graph, create_graph
        )


# The layers below (function.py, ops/, autograd.py) make and recognise tensors through this
# one registration point, since they come before this file and cannot import it.
function.register_tensor_class(Tensor)

__all__ = ["Tensor", "cat", "get_default_dtype", "set_default_dtype", "stack"]
