"""Tensor: a numpy array that remembers how it was made.

A Tensor holds its value in `.data` (a numpy array). When it was computed from tensors that
require grad, `.grad_fn` is the node that made it (see function.py) and `backward()` walks those
nodes from the output back to the leaves, filling in each leaf's `.grad`.

Every differentiable method here is a line or two: it checks its arguments and calls a primitive
from `ops/`, or combines primitives (`mean` is a sum divided by a count).
"""

from __future__ import annotations

import numbers
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from tinygrad_edu import mode
from tinygrad_edu.mode import state

_default_float = np.dtype(np.float32)


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype that Python floats become (float32 unless changed; float64 for checks)."""
    global _default_float
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"the default dtype must be a floating-point dtype, got {d}")
    _default_float = d


def get_default_dtype() -> np.dtype:
    """The dtype that Python floats become."""
    return _default_float


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
            arr = arr.astype(_default_float)  # Python floats become the default float dtype
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


VERSION_HISTORY = 32  # the clock ticks of a tensor's last changes kept, to name old versions


def bump_versions(tensors: Iterable[Tensor]) -> None:
    """Count one in-place change of each tensor's memory: one tick of the process's in-place
    clock for all of them (an optimiser step changes every parameter at once)."""
    mode.inplace_changes = clock = mode.inplace_changes + 1
    for t in tensors:
        box = t._version_box()
        box[0] += 1
        box[1] = clock
        if len(box) == 2:  # the first change: start the (bounded) list of when changes happened
            box.append(deque(maxlen=VERSION_HISTORY))
        box[2].append(clock)


def version_at(box: list, clock: int) -> tuple[int, bool]:
    """The version a version box had at in-place clock `clock`, and whether that is exact (only
    the last VERSION_HISTORY changes are remembered; beyond them it is an upper bound)."""
    ticks = box[2] if len(box) > 2 else ()
    later = sum(1 for tick in ticks if tick > clock)
    exact = later < len(ticks) or len(ticks) < VERSION_HISTORY
    return box[0] - later, exact


class Tensor:
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
        if self.dtype not in (_default_float, np.dtype(np.int64), np.dtype(bool)):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        return "Tensor(" + ", ".join([body, *extras]) + ")"

    def _repr_html_(self) -> str:
        """Jupyter's view: name, shape, dtype, grad_fn, the values and the grad (notebook.py)."""
        from tinygrad_edu.notebook import tensor_html

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
                f"make it with floats or dtype={_default_float} (e.g. tg.Tensor([1.0, 2.0]))"
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

    # -- in-place changes -------------------------------------------------------------------
    # Each writes into `.data` itself and bumps the version counter, which backward checks, so a
    # value saved for backward and changed afterwards raises instead of giving a wrong gradient.

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has had (shared with its views)."""
        return 0 if self._vbox is None else self._vbox[0]

    def _version_box(self) -> list:
        """[version, clock, ticks]: the in-place changes this memory has had, the process's
        in-place clock (`mode.inplace_changes`) at the latest of them, and (from the first
        change) the clock at each of the last few. Views share their base's box; backward reads
        it to catch a saved tensor changed after it was saved, and to name the saved version."""
        if self._vbox is None:
            self._vbox = [0, 0]
        return self._vbox

    def _inplace(self, op: str, write: Any, value: Any = None) -> Tensor:
        if self.requires_grad and state.grad_enabled:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{op}: this leaf tensor (shape {self.shape}) requires grad, so changing it "
                    "in place would hide the change from autograd; do updates such as "
                    "`w -= lr * w.grad` inside `with tg.no_grad():`"
                )
            raise RuntimeError(
                f"{op}: this tensor (shape {self.shape}, made by {self.grad_fn.name}) is part of "
                "a graph that requires grad, and in-place changes to it are not supported; "
                "write it out of place instead (e.g. `h = h + b` rather than `h += b`)"
            )
        if type(value) is not np.ndarray and value is not None:  # arrays: nothing to convert
            if isinstance(value, Tensor):
                value = value.data
            elif isinstance(value, (numbers.Number, np.generic)) and self.dtype.kind == "f":
                value = np.asarray(value, dtype=self.dtype)  # float32 stays float32
            else:
                value = np.asarray(value)
        try:
            write(self.data, value)
        except ValueError as err:
            given = "" if value is None else f" with a value of shape {np.shape(value)}"
            raise ValueError(
                f"{op}: cannot change a tensor of shape {self.shape} in place{given}: {err}"
            ) from None
        except TypeError as err:
            raise TypeError(
                f"{op}: cannot write {np.asarray(value).dtype} values into a {self.dtype} "
                f"tensor in place: {err}"
            ) from None
        bump_versions((self,))
        return self

    def add_(self, other: Any) -> Tensor:
        """self += other, in place (broadcasting other to self's shape)."""
        return self._inplace("add_", _iadd, other)

    def sub_(self, other: Any) -> Tensor:
        """self -= other, in place."""
        return self._inplace("sub_", _isub, other)

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place."""
        return self._inplace("mul_", _imul, other)

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place (a float tensor only: the result must fit its dtype)."""
        return self._inplace("div_", _idiv, other)

    def zero_(self) -> Tensor:
        """Set every element to 0, in place."""
        return self._inplace("zero_", _fill, 0)

    def fill_(self, value: float) -> Tensor:
        """Set every element to value, in place."""
        return self._inplace("fill_", _fill, value)

    def copy_(self, src: Any) -> Tensor:
        """Copy src's values (broadcast to self's shape, cast to self's dtype) into self."""
        return self._inplace("copy_", _fill, src)

    def __setitem__(self, index: Any, value: Any) -> None:
        """t[index] = value, in place (numpy's indexing rules)."""
        index = _index(index)
        self._inplace("setitem", lambda d, v: d.__setitem__(index, v), value)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # -- operand handling -----------------------------------------------------------------
    def _operand(self, other: Any, op: str) -> tuple[Tensor, Tensor]:
        """(self, other) as two Tensors following SPEC's dtype rules for scalars.

        A Python or numpy scalar takes a float tensor's dtype (float32 * 0.5 stays float32);
        an int or bool tensor meeting a float scalar becomes the default float dtype.
        """
        if isinstance(other, Tensor):
            return self, other
        if isinstance(other, (numbers.Number, np.generic)) and not isinstance(other, complex):
            kind = self.dtype.kind
            if kind == "f":
                return self, Tensor._make(np.asarray(other, dtype=self.dtype))
            value = np.asarray(other)
            if value.dtype.kind == "f":
                return self.astype(_default_float), Tensor._make(value.astype(_default_float))
            if kind == "b" and value.dtype.kind == "b":
                return self, Tensor._make(value)
            dtype = self.dtype if kind != "b" else np.dtype(np.int64)
            return self, Tensor._make(value.astype(dtype))
        if isinstance(other, (np.ndarray, list, tuple)):
            return self, Tensor(other)
        raise TypeError(
            f"{op}: cannot combine a Tensor with {type(other).__name__}; expected a Tensor, "
            "a numpy array or a number"
        )

    def _floats(self) -> Tensor:
        """self, or a default-float copy of an int/bool tensor (for exp, log, division ...)."""
        return self if self.dtype.kind == "f" else self.astype(_default_float)

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
            return Tensor._make(np.asanyarray(fn(a.data, b.data)))
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
        return Tensor._make(np.asanyarray(np.argmax(self.data, axis=axis, keepdims=keepdims)))

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the smallest element (over the flattened tensor when axis is None)."""
        return Tensor._make(np.asanyarray(np.argmin(self.data, axis=axis, keepdims=keepdims)))

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
            return Tensor._make(self.data.astype(dtype))  # an int copy carries no gradient
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


def _iadd(d: np.ndarray, v: Any) -> None:
    np.add(d, v, out=d, casting="same_kind")


def _isub(d: np.ndarray, v: Any) -> None:
    np.subtract(d, v, out=d, casting="same_kind")


def _imul(d: np.ndarray, v: Any) -> None:
    np.multiply(d, v, out=d, casting="same_kind")


def _idiv(d: np.ndarray, v: Any) -> None:
    np.divide(d, v, out=d, casting="same_kind")


def _fill(d: np.ndarray, v: Any) -> None:
    d[...] = v


def _index(index: Any) -> tuple:
    """An index as a tuple whose array parts are numpy arrays (never Tensors or lists)."""
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for part in parts:
        if isinstance(part, Tensor):
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
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of Tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor, got an empty list")
    out = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    dtype = np.result_type(*[t.dtype for t in out])
    return [t.astype(dtype) for t in out]


# The engine and the primitives use Tensor, so they are imported once Tensor exists.
from tinygrad_edu import autograd  # noqa: E402  (imported here, not in backward(): 0.5 us a call)
from tinygrad_edu.ops.elementwise import (  # noqa: E402
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
from tinygrad_edu.ops.matmul import MatMul  # noqa: E402
from tinygrad_edu.ops.movement import (  # noqa: E402
    BroadcastTo,
    Cat,
    Getitem,
    Reshape,
    Stack,
    Transpose,
)
from tinygrad_edu.ops.reduce import LogSoftmax, Max, Min, Sum, normalize_axes  # noqa: E402
