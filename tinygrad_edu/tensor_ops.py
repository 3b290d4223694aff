"""The Tensor's differentiable methods: each a line or two that checks its arguments and calls a
primitive of `ops/`, or combines primitives (`mean` is a sum divided by a count).

`TensorOps` is mixed into `Tensor` (tensor.py); its methods make their results through the ops,
and the few tensors they make themselves through `function.Tensor`, the class tensor.py
registers (this file comes before tensor.py, so it cannot import it). `cat` and `stack`, the
ops on a list of tensors, are here too.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu import function
from tinygrad_edu.dtypes import get_default_dtype
from tinygrad_edu.ops.elementwise import (
    Abs,
    Add,
    Cast,
    Clip,
    Clone,
    Div,
    Exp,
    LeakyRelu,
    Log,
    Mul,
    Neg,
    Pow,
    Relu,
    Sigmoid,
    Sqrt,
    Sub,
    Tanh,
)
from tinygrad_edu.ops.matmul import MatMul
from tinygrad_edu.ops.movement import (
    BroadcastTo,
    Cat,
    Getitem,
    Reshape,
    Stack,
    Transpose,
)
from tinygrad_edu.ops.reduce import LogSoftmax, Max, Min, Sum, normalize_axes

if TYPE_CHECKING:  # for the annotations only
    from tinygrad_edu.tensor import Tensor


class TensorOps:
    """The operators and differentiable methods of Tensor (see tensor.py)."""

    __slots__ = ()

    # -- operand handling -----------------------------------------------------------------
    def _operand(self, other: Any, op: str) -> tuple[Tensor, Tensor]:
        """(self, other) as two Tensors following SPEC's dtype rules for scalars.

        A Python or numpy scalar takes a float tensor's dtype (float32 * 0.5 stays float32);
        an int or bool tensor meeting a float scalar becomes the default float dtype.
        """
        if isinstance(other, function.Tensor):
            return self, other
        if isinstance(other, (numbers.Number, np.generic)) and not isinstance(other, complex):
            make = function.Tensor._make
            kind = self.dtype.kind
            if kind == "f":
                return self, make(np.asarray(other, dtype=self.dtype))
            value = np.asarray(other)
            if value.dtype.kind == "f":
                floats = get_default_dtype()
                return self.astype(floats), make(value.astype(floats))
            if kind == "b" and value.dtype.kind == "b":
                return self, make(value)
            dtype = self.dtype if kind != "b" else np.dtype(np.int64)
            return self, make(value.astype(dtype))
        if isinstance(other, (np.ndarray, list, tuple)):
            return self, function.Tensor(other)
        raise TypeError(
            f"{op}: cannot combine a Tensor with {type(other).__name__}; expected a Tensor, "
            "a numpy array or a number"
        )

    def _floats(self) -> Tensor:
        """self, or a default-float copy of an int/bool tensor (for exp, log, division ...)."""
        return self if self.dtype.kind == "f" else self.astype(get_default_dtype())

    # -- arithmetic (broadcasting like numpy) ---------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return Add.apply(*self._operand(other, "add"))

    def __radd__(self, other: Any) -> Tensor:
        a, b = self._operand(other, "add")
        return Add.apply(b, a)

    def __sub__(self, other: Any) -> Tensor:
        return Sub.apply(*self._operand(other, "sub"))

    def __rsub__(self, other: Any) -> Tensor:
        a, b = self._operand(other, "sub")
        return Sub.apply(b, a)

    def __mul__(self, other: Any) -> Tensor:
        return Mul.apply(*self._operand(other, "mul"))

    def __rmul__(self, other: Any) -> Tensor:
        a, b = self._operand(other, "mul")
        return Mul.apply(b, a)

    def __truediv__(self, other: Any) -> Tensor:
        a, b = self._operand(other, "div")
        return Div.apply(a._floats(), b._floats())

    def __rtruediv__(self, other: Any) -> Tensor:
        a, b = self._operand(other, "div")
        return Div.apply(b._floats(), a._floats())

    def __pow__(self, other: Any) -> Tensor:
        return Pow.apply(*self._operand(other, "pow"))

    def __rpow__(self, other: Any) -> Tensor:
        a, b = self._operand(other, "pow")
        return Pow.apply(b, a)

    def __neg__(self) -> Tensor:
        return Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __matmul__(self, other: Any) -> Tensor:
        return MatMul.apply(*self._operand(other, "matmul"))

    def __rmatmul__(self, other: Any) -> Tensor:
        a, b = self._operand(other, "matmul")
        return MatMul.apply(b, a)

    def __abs__(self) -> Tensor:
        return self.abs()

    # -- comparisons (not differentiable: they return bool tensors) ------------------------
    def _compare(self, other: Any, fn: Any, op: str) -> Tensor:
        a, b = self._operand(other, op)
        try:
            return function.Tensor._make(np.asanyarray(fn(a.data, b.data)))
        except ValueError as err:
            raise ValueError(
                f"{op}: cannot compare shapes {a.shape} and {b.shape}: {err}"
            ) from None

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal, "==")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal, "!=")

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less, "<")

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal, "<=")

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater, ">")

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal, ">=")

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the largest element (over the flattened tensor when axis is None)."""
        return function.Tensor._make(
            np.asanyarray(np.argmax(self.data, axis=axis, keepdims=keepdims))
        )

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the smallest element (over the flattened tensor when axis is None)."""
        return function.Tensor._make(
            np.asanyarray(np.argmin(self.data, axis=axis, keepdims=keepdims))
        )

    # -- elementwise functions ------------------------------------------------------------
    def exp(self) -> Tensor:
        """e**x, elementwise."""
        return Exp.apply(self._floats())

    def log(self) -> Tensor:
        """Natural logarithm, elementwise (-inf at 0, NaN below)."""
        return Log.apply(self._floats())

    def sqrt(self) -> Tensor:
        """Square root, elementwise."""
        return Sqrt.apply(self._floats())

    def abs(self) -> Tensor:
        """|x|, elementwise; its gradient at 0 is 0."""
        return Abs.apply(self)

    def relu(self) -> Tensor:
        """max(x, 0): the rectified linear unit; its gradient at 0 is 0."""
        return Relu.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """x for x > 0, negative_slope * x otherwise."""
        return LeakyRelu.apply(self, negative_slope=negative_slope)

    def tanh(self) -> Tensor:
        """Hyperbolic tangent, squashing into (-1, 1)."""
        return Tanh.apply(self._floats())

    def sigmoid(self) -> Tensor:
        """1 / (1 + exp(-x)), squashing into (0, 1); stable for any x."""
        return Sigmoid.apply(self._floats())

    def clip(self, lo: float | None = None, hi: float | None = None) -> Tensor:
        """Limit values to [lo, hi] (either may be None); the gradient is 0 outside."""
        if lo is None and hi is None:
            raise ValueError("clip: give at least one of lo and hi")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"clip: lo ({lo}) must not exceed hi ({hi})")
        return Clip.apply(self, lo=lo, hi=hi)

    def astype(self, dtype: Any) -> Tensor:
        """A copy with another dtype; gradients flow back, cast to the original dtype."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if self.requires_grad and dtype.kind != "f":
            return function.Tensor._make(self.data.astype(dtype))  # an int copy carries no gradient
        return Cast.apply(self, dtype=dtype)

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph (its gradient flows back to self)."""
        return Clone.apply(self)

    # -- reductions ------------------------------------------------------------------------
    def sum(self, axis: int | tuple | None = None, keepdims: bool = False) -> Tensor:
        """Sum over axis (None: all elements; an int; or a tuple of ints)."""
        return Sum.apply(self, axis=normalize_axes(axis, self.ndim), keepdims=keepdims)

    def mean(self, axis: int | tuple | None = None, keepdims: bool = False) -> Tensor:
        """Average over axis: the sum divided by the number of elements summed."""
        axes = normalize_axes(axis, self.ndim)
        count = int(np.prod([self.shape[a] for a in axes]))
        return self.sum(axes, keepdims) / count

    def var(self, axis: int | tuple | None = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """Variance: mean squared distance from the mean, divided by (n - ddof)."""
        axes = normalize_axes(axis, self.ndim)
        count = int(np.prod([self.shape[a] for a in axes]))
        if count - ddof <= 0:
            raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {count} elements")
        centered = self - self.mean(axes, keepdims=True)
        return (centered * centered).sum(axes, keepdims) / (count - ddof)

    def max(self, axis: int | tuple | None = None, keepdims: bool = False) -> Tensor:
        """Largest element over axis; tied maxima share the gradient evenly."""
        return Max.apply(self, axis=self._reduce_axes(axis, "max"), keepdims=keepdims)

    def min(self, axis: int | tuple | None = None, keepdims: bool = False) -> Tensor:
        """Smallest element over axis; tied minima share the gradient evenly."""
        return Min.apply(self, axis=self._reduce_axes(axis, "min"), keepdims=keepdims)

    def _reduce_axes(self, axis: Any, op: str) -> tuple:
        axes = normalize_axes(axis, self.ndim)
        if any(self.shape[a] == 0 for a in axes):
            raise ValueError(f"{op}: cannot reduce an empty axis of shape {self.shape}")
        return axes

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x) / sum(exp(x)) along axis: non-negative, sums to 1; stable for any logits."""
        return self.log_softmax(axis).exp()

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x - log(sum(exp(x))) along axis, computed without overflow."""
        (axis,) = normalize_axes(axis, self.ndim)
        return LogSoftmax.apply(self._floats(), axis=axis)

    # -- movement --------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        """The same elements in a new shape; one dimension may be -1 (inferred)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Reshape.apply(self, shape=tuple(int(n) for n in shape))

    def transpose(self, *axes: Any) -> Tensor:
        """Permute the axes (reverse them when none are given), like numpy."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            return Transpose.apply(self, axes=None)
        if sorted(a % self.ndim if self.ndim else a for a in axes) != list(range(self.ndim)):
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of the {self.ndim} axes of "
                f"shape {self.shape}"
            )
        return Transpose.apply(self, axes=tuple(a % self.ndim for a in axes))

    @property
    def T(self) -> Tensor:
        """All axes reversed (the matrix transpose for 2-D)."""
        return self.transpose()

    def swapaxes(self, a: int, b: int) -> Tensor:
        """Exchange two axes."""
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(axes)

    def flatten(self) -> Tensor:
        """All elements in one dimension."""
        return self.reshape(-1)

    def squeeze(self, axis: int | tuple | None = None) -> Tensor:
        """Drop axes of size 1 (all of them when axis is None)."""
        if axis is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        else:
            axes = normalize_axes(axis, self.ndim)
            bad = [a for a in axes if self.shape[a] != 1]
            if bad:
                raise ValueError(
                    f"squeeze: axis {bad[0]} of shape {self.shape} has size "
                    f"{self.shape[bad[0]]}, only axes of size 1 can be squeezed"
                )
        return self.reshape([n for i, n in enumerate(self.shape) if i not in axes])

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert an axis of size 1 at position axis (negative counts from the end)."""
        if not -self.ndim - 1 <= axis <= self.ndim:
            raise ValueError(
                f"unsqueeze: axis {axis} is out of range for shape {self.shape} "
                f"(valid: {-self.ndim - 1} to {self.ndim})"
            )
        axis = axis % (self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """Repeat along size-1 (and new leading) axes to `shape`, like numpy.broadcast_to."""
        shape = tuple(int(n) for n in shape)
        if shape == self.shape:
            return self
        return BroadcastTo.apply(self, shape=shape)

    def __getitem__(self, index: Any) -> Tensor:
        """numpy indexing: ints, slices, None, Ellipsis, integer and bool arrays."""
        return Getitem.apply(self, index=_index(index))


def _index(index: Any) -> tuple:
    """An index as a tuple whose array parts are numpy arrays (never Tensors or lists)."""
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for part in parts:
        if isinstance(part, function.Tensor):
            part = part.data
        elif isinstance(part, list):
            part = np.asarray(part)
        if isinstance(part, np.ndarray) and part.dtype.kind not in "biu":
            raise IndexError(f"index arrays must hold integers or bools, got dtype {part.dtype}")
        elif isinstance(part, (float, complex, str)):
            raise IndexError(f"a tensor cannot be indexed by {type(part).__name__} {part!r}")
        out.append(int(part) if isinstance(part, np.integer) else part)
    return tuple(out)


def cat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; all other dimensions must match.

    >>> tg.cat([tg.zeros(2, 3), tg.ones(1, 3)]).shape
    (3, 3)
    """
    tensors = _tensor_list(tensors, "cat")
    return Cat.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis.

    >>> tg.stack([tg.zeros(3), tg.ones(3)]).shape
    (2, 3)
    """
    tensors = _tensor_list(tensors, "stack")
    return Stack.apply(*tensors, axis=axis)


def _tensor_list(tensors: Any, op: str) -> list[Tensor]:
    if isinstance(tensors, function.Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of Tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor, got an empty list")
    out = [t if isinstance(t, function.Tensor) else Tensor(t) for t in tensors]
    dtype = np.result_type(*[t.dtype for t in out])
    return [t.astype(dtype) for t in out]
