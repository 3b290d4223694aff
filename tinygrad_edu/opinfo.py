"""One table of every differentiable op, each with a generator of valid inputs.

The tests (gradcheck, gradgradcheck and the PyTorch comparison on generated shapes) and the
`tinygrad-edu gradcheck` command both read `OPS`, so adding a row checks a new op everywhere.

A generator receives a `Chooser`, which draws ints, choices and arrays. The tests back it with
hypothesis (so failures shrink to the smallest shape); the command line backs it with a seeded
numpy generator (so hypothesis is not needed at run time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import tinygrad_edu as tg


class Chooser:
    """Draws the parts of a sample; this one from a numpy Generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def int(self, lo: int, hi: int) -> int:
        """An int in [lo, hi]."""
        return int(self.rng.integers(lo, hi + 1))

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.int(0, len(options) - 1)]

    def array(self, shape: tuple, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
        """float64 values drawn uniformly from [lo, hi]."""
        return self.rng.uniform(lo, hi, size=shape)


@dataclass
class Sample:
    """Inputs for one call: `args` are float64 arrays (made into Tensors that require grad),
    `kwargs` are passed as they are (axes, indices, ...)."""

    args: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OpInfo:
    name: str
    fn: Callable[..., Any]  # on tinygrad_edu Tensors
    sample: Callable[[Chooser], Sample]
    torch_fn: Callable[..., Any] | None = None  # the same op on torch tensors
    gradgrad: bool = True  # whether second derivatives are checked


# -- shape generators ---------------------------------------------------------------------------


def shape(c: Chooser, min_ndim: int = 0, max_ndim: int = 3, max_side: int = 4) -> tuple:
    return tuple(c.int(1, max_side) for _ in range(c.int(min_ndim, max_ndim)))


def broadcastable(c: Chooser, base: tuple) -> tuple:
    """A shape that broadcasts with `base`: leading axes dropped, some sides set to 1."""
    drop = c.int(0, len(base))
    return tuple(1 if c.int(0, 2) == 0 else n for n in base[drop:])


def pair(c: Chooser) -> tuple[tuple, tuple]:
    """Two shapes that broadcast against each other, in either order (scalar with matrix too)."""
    a = shape(c)
    b = broadcastable(c, a)
    a = tuple(1 if c.int(0, 3) == 0 else n for n in a)  # size-1 sides on both operands
    return (a, b) if c.int(0, 1) else (b, a)


def away_from(x: np.ndarray, points: Sequence[float], gap: float = 0.05) -> np.ndarray:
    """x with values closer than `gap` to a kink pushed away (finite differences need it)."""
    x = x.copy()
    for p in points:
        near = np.abs(x - p) < gap
        x[near] = p + np.where(x[near] >= p, gap, -gap)
    return x


def axis_arg(c: Chooser, ndim: int) -> Any:
    """None, an int (maybe negative) or a tuple of distinct axes."""
    if ndim == 0:
        return None
    kind = c.int(0, 2)
    if kind == 0:
        return None
    if kind == 1:
        return c.int(-ndim, ndim - 1)
    axes = [a for a in range(ndim) if c.int(0, 1)]
    return tuple(axes) or (ndim - 1,)  # numpy reads () as "no axis"; torch as "all axes"


def _torch_reduce(name: str) -> Callable:
    """torch.<name> with numpy's axis=None (all axes, keepdims giving all-1 sides)."""

    def call(x: Any, axis: Any, keepdims: bool, **kwargs: Any) -> Any:
        if axis is not None:
            return _t(name)(x, dim=axis, keepdim=keepdims, **kwargs)
        return _t(name)(x, **kwargs).reshape((1,) * x.ndim if keepdims else ())

    return call


# -- samples ------------------------------------------------------------------------------------


def _unary(lo: float = -2.0, hi: float = 2.0, kinks: Sequence[float] = ()) -> Callable:
    def sample(c: Chooser) -> Sample:
        return Sample((away_from(c.array(shape(c), lo, hi), kinks),))

    return sample


def _binary(c: Chooser) -> Sample:
    a, b = pair(c)
    return Sample((c.array(a), c.array(b)))


def _binary_same(c: Chooser) -> Sample:
    s = shape(c)
    return Sample((c.array(s), c.array(s)))


def _divide(c: Chooser) -> Sample:
    a, b = pair(c)
    return Sample((c.array(a), np.asarray(c.array(b, 0.5, 2.0) * c.choice([-1, 1]))))


def _power(c: Chooser) -> Sample:
    a, b = pair(c)
    return Sample((c.array(a, 0.5, 2.0), c.array(b, -1.5, 1.5)))


def _scalar_op(c: Chooser) -> Sample:
    return Sample((c.array(shape(c)),), {"s": c.choice([2.5, -0.5, 3])})


def _reduce(c: Chooser) -> Sample:
    x = c.array(shape(c, min_ndim=1))
    return Sample((x,), {"axis": axis_arg(c, x.ndim), "keepdims": bool(c.int(0, 1))})


def _var(c: Chooser) -> Sample:
    x = c.array(tuple(n + 1 for n in shape(c, min_ndim=1)))  # every side >= 2: ddof=1 is valid
    return Sample(
        (x,), {"axis": axis_arg(c, x.ndim), "keepdims": bool(c.int(0, 1)), "ddof": c.int(0, 1)}
    )


def _matmul(c: Chooser) -> Sample:
    n, k, m = c.int(1, 4), c.int(1, 4), c.int(1, 4)
    kind = c.choice(["vv", "mv", "vm", "mm", "batched", "broadcast"])
    if kind == "vv":
        return Sample((c.array((k,)), c.array((k,))))
    if kind == "mv":
        return Sample((c.array((n, k)), c.array((k,))))
    if kind == "vm":
        return Sample((c.array((k,)), c.array((k, m))))
    if kind == "mm":
        return Sample((c.array((n, k)), c.array((k, m))))
    b = c.int(1, 3)
    if kind == "batched":
        return Sample((c.array((b, n, k)), c.array((b, k, m))))
    return Sample((c.array((b, 1, n, k)), c.array((c.int(1, 2), k, m))))  # batch axes broadcast


def _reshape(c: Chooser) -> Sample:
    x = c.array(shape(c, min_ndim=1))
    sizes = [d for d in range(1, x.size + 1) if x.size % d == 0]
    first = c.choice(sizes)
    return Sample((x,), {"shape": (first, -1)})


def _transpose(c: Chooser) -> Sample:
    x = c.array(shape(c, min_ndim=1))
    axes = list(range(x.ndim))
    for i in range(len(axes) - 1, 0, -1):  # a permutation drawn through the chooser
        j = c.int(0, i)
        axes[i], axes[j] = axes[j], axes[i]
    return Sample((x,), {"axes": tuple(axes)})


def _squeeze(c: Chooser) -> Sample:
    s = list(shape(c, min_ndim=1))
    s.insert(c.int(0, len(s)), 1)
    return Sample((c.array(tuple(s)),), {"axis": s.index(1)})


def _unsqueeze(c: Chooser) -> Sample:
    x = c.array(shape(c))
    return Sample((x,), {"axis": c.int(-x.ndim - 1, x.ndim)})


def _broadcast_to(c: Chooser) -> Sample:
    target = shape(c, min_ndim=1)
    return Sample((c.array(broadcastable(c, target)),), {"shape": target})


def _basic_index(c: Chooser) -> Sample:
    x = c.array(shape(c, min_ndim=2))
    index = (c.int(-x.shape[0], x.shape[0] - 1), slice(None, None, c.choice([1, 2, -1])), None)
    return Sample((x,), {"index": index[: x.ndim + 1]})


def _gather_index(c: Chooser) -> Sample:
    x = c.array(shape(c, min_ndim=1))
    rows = np.array([c.int(0, x.shape[0] - 1) for _ in range(c.int(1, 6))])
    rows[-1] = rows[0]  # a repeated index: its gradients must add up
    return Sample((x,), {"index": (rows,)})


def _cat(c: Chooser) -> Sample:
    base = list(shape(c, min_ndim=1))
    axis = c.int(0, len(base) - 1)
    parts = []
    for _ in range(c.int(1, 3)):
        base[axis] = c.int(1, 3)
        parts.append(c.array(tuple(base)))
    return Sample(tuple(parts), {"axis": axis - len(base) * c.int(0, 1)})


def _stack(c: Chooser) -> Sample:
    s = shape(c)
    parts = tuple(c.array(s) for _ in range(c.int(1, 3)))
    return Sample(parts, {"axis": c.int(-len(s) - 1, len(s))})


def _softmax(c: Chooser) -> Sample:
    x = c.array(shape(c, min_ndim=1), -4, 4)
    return Sample((x,), {"axis": c.int(-x.ndim, x.ndim - 1)})


def _clip(c: Chooser) -> Sample:
    lo, hi = c.choice([(-1.0, 1.0), (None, 0.5), (-0.5, None)])
    x = away_from(c.array(shape(c)), [v for v in (lo, hi) if v is not None])
    return Sample((x,), {"lo": lo, "hi": hi})


def _linear(c: Chooser) -> Sample:
    n_in, n_out = c.int(1, 4), c.int(1, 4)
    batch = shape(c, max_ndim=2)  # () gives a single 1-D input
    args = (c.array((*batch, n_in)), c.array((n_out, n_in)))
    return Sample(args + ((c.array((n_out,)),) if c.int(0, 1) else ()))


def _cross_entropy(c: Chooser) -> Sample:
    n, classes = c.int(1, 5), c.int(2, 5)
    target = np.array([c.int(0, classes - 1) for _ in range(n)])
    reduction = c.choice(["mean", "sum", "none"])
    return Sample((c.array((n, classes), -3, 3),), {"target": target, "reduction": reduction})


def _bce(c: Chooser) -> Sample:
    s = shape(c)
    reduction = c.choice(["mean", "sum", "none"])
    return Sample((c.array(s, 0.05, 0.95), c.array(s, 0.0, 1.0)), {"reduction": reduction})


def _bce_logits(c: Chooser) -> Sample:
    s = shape(c)
    reduction = c.choice(["mean", "sum", "none"])
    return Sample((c.array(s, -4, 4), c.array(s, 0.0, 1.0)), {"reduction": reduction})


# -- the table ----------------------------------------------------------------------------------


def _t(name: str) -> Callable:
    """A torch function by dotted name, looked up only when the comparison runs."""

    def call(*args: Any, **kwargs: Any) -> Any:
        import torch

        fn: Any = torch
        for part in name.split("."):
            fn = getattr(fn, part)
        return fn(*args, **kwargs)

    return call


OPS: list[OpInfo] = [
    OpInfo("add", lambda x, y: x + y, _binary, lambda x, y: x + y),
    OpInfo("sub", lambda x, y: x - y, _binary, lambda x, y: x - y),
    OpInfo("mul", lambda x, y: x * y, _binary, lambda x, y: x * y),
    OpInfo("div", lambda x, y: x / y, _divide, lambda x, y: x / y),
    OpInfo("pow", lambda x, y: x**y, _power, lambda x, y: x**y),
    OpInfo("neg", lambda x: -x, _unary(), lambda x: -x),
    OpInfo("scalar_add", lambda x, s: x + s, _scalar_op, lambda x, s: x + s),
    OpInfo("scalar_rsub", lambda x, s: s - x, _scalar_op, lambda x, s: s - x),
    OpInfo("scalar_mul", lambda x, s: s * x, _scalar_op, lambda x, s: s * x),
    OpInfo("scalar_rdiv", lambda x, s: s / (x * x + 1), _scalar_op, lambda x, s: s / (x * x + 1)),
    OpInfo(
        "scalar_pow", lambda x, s: (x * x + 0.5) ** s, _scalar_op, lambda x, s: (x * x + 0.5) ** s
    ),
    OpInfo("scalar_rpow", lambda x, s: abs(s) ** x, _scalar_op, lambda x, s: abs(s) ** x),
    OpInfo("exp", lambda x: x.exp(), _unary(), _t("exp")),
    OpInfo("log", lambda x: x.log(), _unary(0.2, 3.0), _t("log")),
    OpInfo("sqrt", lambda x: x.sqrt(), _unary(0.2, 3.0), _t("sqrt")),
    OpInfo("abs", lambda x: x.abs(), _unary(kinks=[0.0]), _t("abs")),
    OpInfo("relu", lambda x: x.relu(), _unary(kinks=[0.0]), _t("relu")),
    OpInfo(
        "leaky_relu",
        lambda x: x.leaky_relu(0.1),
        _unary(kinks=[0.0]),
        lambda x: _t("nn.functional.leaky_relu")(x, 0.1),
    ),
    OpInfo("tanh", lambda x: x.tanh(), _unary(), _t("tanh")),
    OpInfo("sigmoid", lambda x: x.sigmoid(), _unary(-6, 6), _t("sigmoid")),
    OpInfo(
        "clip", lambda x, lo, hi: x.clip(lo, hi), _clip, lambda x, lo, hi: _t("clamp")(x, lo, hi)
    ),
    OpInfo("sum", lambda x, axis, keepdims: x.sum(axis, keepdims), _reduce, _torch_reduce("sum")),
    OpInfo(
        "mean", lambda x, axis, keepdims: x.mean(axis, keepdims), _reduce, _torch_reduce("mean")
    ),
    OpInfo(
        "var",
        lambda x, axis, keepdims, ddof: x.var(axis, keepdims, ddof),
        _var,
        lambda x, axis, keepdims, ddof: _torch_reduce("var")(x, axis, keepdims, correction=ddof),
    ),
    OpInfo(
        "max",
        lambda x, axis, keepdims: x.max(axis, keepdims),
        _reduce,
        lambda x, axis, keepdims: _t("amax")(x, dim=() if axis is None else axis, keepdim=keepdims),
    ),
    OpInfo(
        "min",
        lambda x, axis, keepdims: x.min(axis, keepdims),
        _reduce,
        lambda x, axis, keepdims: _t("amin")(x, dim=() if axis is None else axis, keepdim=keepdims),
    ),
    OpInfo("matmul", lambda x, y: x @ y, _matmul, lambda x, y: x @ y),
    OpInfo(
        "reshape", lambda x, shape: x.reshape(shape), _reshape, lambda x, shape: x.reshape(shape)
    ),
    OpInfo(
        "transpose", lambda x, axes: x.transpose(axes), _transpose, lambda x, axes: x.permute(axes)
    ),
    OpInfo("T", lambda x: x.T, _unary(), lambda x: x.permute(tuple(reversed(range(x.ndim))))),
    OpInfo("flatten", lambda x: x.flatten(), _unary(), lambda x: x.reshape(-1)),
    OpInfo("squeeze", lambda x, axis: x.squeeze(axis), _squeeze, lambda x, axis: x.squeeze(axis)),
    OpInfo(
        "unsqueeze",
        lambda x, axis: x.unsqueeze(axis),
        _unsqueeze,
        lambda x, axis: x.unsqueeze(axis),
    ),
    OpInfo(
        "broadcast_to",
        lambda x, shape: x.broadcast_to(shape),
        _broadcast_to,
        lambda x, shape: x.broadcast_to(shape),
    ),
    OpInfo("getitem_basic", lambda x, index: x[index], _basic_index, None),
    OpInfo(
        "getitem_repeated",
        lambda x, index: x[index],
        _gather_index,
        lambda x, index: x[tuple(_t("as_tensor")(i) for i in index)],
    ),
    OpInfo(
        "cat",
        lambda *xs, axis: tg.cat(list(xs), axis),
        _cat,
        lambda *xs, axis: _t("cat")(list(xs), axis),
    ),
    OpInfo(
        "stack",
        lambda *xs, axis: tg.stack(list(xs), axis),
        _stack,
        lambda *xs, axis: _t("stack")(list(xs), axis),
    ),
    OpInfo(
        "softmax", lambda x, axis: x.softmax(axis), _softmax, lambda x, axis: _t("softmax")(x, axis)
    ),
    OpInfo(
        "log_softmax",
        lambda x, axis: x.log_softmax(axis),
        _softmax,
        lambda x, axis: _t("log_softmax")(x, axis),
    ),
    OpInfo("clone", lambda x: x.clone(), _unary(), lambda x: x.clone()),
    # Cast there and back: float64 -> long double -> float64 loses nothing, so finite
    # differences can check Cast's backward (a float32 round trip would swamp eps).
    OpInfo(
        "astype", lambda x: x.astype(np.longdouble).astype(x.dtype), _unary(), lambda x: x.clone()
    ),
]

F = tg.nn.functional
OPS += [
    OpInfo(
        "linear",
        lambda x, w, b=None: F.linear(x, w, b),
        _linear,
        lambda x, w, b=None: _t("nn.functional.linear")(x, w, b),
    ),
    OpInfo(
        "cross_entropy",
        lambda z, target, reduction: F.cross_entropy(z, tg.Tensor(target), reduction),
        _cross_entropy,
        lambda z, target, reduction: _t("nn.functional.cross_entropy")(
            z, _t("as_tensor")(target), reduction=reduction
        ),
    ),
    OpInfo(
        "binary_cross_entropy",
        lambda p, t, reduction: F.binary_cross_entropy(p, t, reduction),
        _bce,
        lambda p, t, reduction: _t("nn.functional.binary_cross_entropy")(p, t, reduction=reduction),
    ),
    OpInfo(
        "binary_cross_entropy_with_logits",
        lambda x, t, reduction: F.binary_cross_entropy_with_logits(x, t, reduction),
        _bce_logits,
        lambda x, t, reduction: _t("nn.functional.binary_cross_entropy_with_logits")(
            x, t, reduction=reduction
        ),
    ),
    OpInfo(
        "mse_loss",
        lambda x, t: F.mse_loss(x, t),
        _binary_same,
        lambda x, t: _t("nn.functional.mse_loss")(x, t),
    ),
]

OPS_BY_NAME: dict[str, OpInfo] = {op.name: op for op in OPS}
