"""One table of every differentiable op, each with a generator of valid inputs.

The tests (gradcheck, gradgradcheck and the PyTorch comparison on generated shapes) and the
`tinygrad-edu gradcheck` command both read `OPS`, so adding a row checks a new op everywhere.

Each row names the op, calls it on Tensors, draws valid inputs (the generators are in
samples.py) and, where PyTorch has it, names the same op there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.samples import (  # noqa: F401  (Chooser, Sample: imported from here too)
    Chooser,
    Sample,
    _basic_index,
    _bce,
    _bce_logits,
    _binary,
    _binary_same,
    _broadcast_to,
    _cat,
    _clip,
    _cross_entropy,
    _divide,
    _gather_index,
    _linear,
    _matmul,
    _power,
    _reduce,
    _reshape,
    _scalar_op,
    _softmax,
    _squeeze,
    _stack,
    _transpose,
    _unary,
    _unsqueeze,
    _var,
)


@dataclass(frozen=True)
class OpInfo:
    name: str
    fn: Callable[..., Any]  # on tinygrad_edu Tensors
    sample: Callable[[Chooser], Sample]
    torch_fn: Callable[..., Any] | None = None  # the same op on torch tensors
    gradgrad: bool = True  # whether second derivatives are checked


def _torch_reduce(name: str) -> Callable:
    """torch.<name> with numpy's axis=None (all axes, keepdims giving all-1 sides)."""

    def call(x: Any, axis: Any, keepdims: bool, **kwargs: Any) -> Any:
        if axis is not None:
            return _t(name)(x, dim=axis, keepdim=keepdims, **kwargs)
        return _t(name)(x, **kwargs).reshape((1,) * x.ndim if keepdims else ())

    return call


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
