"""Layers and losses as plain functions of Tensors (the modules in layers.py and losses.py call
these). Most are written with Tensor operations; `linear`, `cross_entropy` and
`binary_cross_entropy` call the coarse primitives of `ops/nn.py` (the one place where tg.nn
reaches below the Tensor API: one node each instead of three to five, see benchmarks/)."""

from __future__ import annotations

import numpy as np

from tinygrad_edu.creation import generator
from tinygrad_edu.ops.nn import BinaryCrossEntropy, CrossEntropy, Linear
from tinygrad_edu.tensor import Tensor, stack

_REDUCTIONS = ("mean", "sum", "none")
# each integer dtype and its unsigned twin of the same size (to check class indices in one pass)
_UNSIGNED = {
    np.dtype(f"{kind}{size}"): np.dtype(f"u{size}") for kind in "iu" for size in (1, 2, 4, 8)
}


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b.   x: (..., in), weight: (out, in), bias: (out,) -> y: (..., out)."""
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


def relu(x: Tensor) -> Tensor:
    """max(x, 0), elementwise."""
    return x.relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x if x > 0 else negative_slope * x."""
    return x.leaky_relu(negative_slope)


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x)."""
    return x.sigmoid()


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """e^x / sum(e^x) along axis."""
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - log(sum(e^x)) along axis."""
    return x.log_softmax(axis)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    keep = generator().random(x.shape) >= p
    return x * Tensor(keep.astype(x.dtype) / np.asarray(1 - p, dtype=x.dtype))


def _reduce(loss: Tensor, reduction: str, fn: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{fn}: reduction must be one of {', '.join(_REDUCTIONS)}; got {reduction!r}")


def _same_shape(input: Tensor, target: Tensor, fn: str) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"{fn}: input has shape {input.shape} but target has shape {target.shape}; they "
            "must be equal (nothing is broadcast silently)"
        )


def _as_tensor(t: object, fn: str) -> Tensor:
    if isinstance(t, Tensor):
        return t
    if isinstance(t, np.ndarray):
        return Tensor(t)
    raise TypeError(f"{fn}: expected a Tensor or numpy array, got {type(t).__name__}")


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Squared error (input - target)^2, averaged (or summed) over every element."""
    input, target = _as_tensor(input, "mse_loss"), _as_tensor(target, "mse_loss")
    _same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def cross_entropy(logits: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """-log softmax(logits)[target]: the cost of giving the right class a low probability.

    logits: (N, C) raw scores; target: (N,) class indices 0..C-1 (int64). Computed from the
    log-softmax, so it stays finite for logits of any size.
    """
    logits, target = _as_tensor(logits, "cross_entropy"), _as_tensor(target, "cross_entropy")
    z, t = logits.data, target.data  # the checks read the arrays: a step's every µs counts here
    if z.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {z.shape}")
    unsigned = _UNSIGNED.get(t.dtype)
    if unsigned is None:
        if t.dtype.kind not in "iu":
            raise TypeError(
                f"cross_entropy: targets must be class indices of an integer dtype (int64), "
                f"got {t.dtype}; for probabilities or one-hot targets use binary_cross_entropy "
                "or convert with .argmax(axis=1)"
            )
        unsigned = t.dtype.str.replace("i", "u")  # an integer of the other byte order
    n, classes = z.shape
    if t.shape != (n,):
        raise ValueError(
            f"cross_entropy: target must have shape ({n},) for logits of shape {z.shape}, "
            f"got {t.shape}"
        )
    # one pass instead of a min and a max: read as unsigned, a negative index is huge
    if n and np.maximum.reduce(t.view(unsigned)) >= classes:
        bad = t[(t < 0) | (t >= classes)]
        raise ValueError(
            f"cross_entropy: targets must be in [0, {classes - 1}] for {classes} classes, got "
            f"{sorted(set(bad.tolist()))[:10]}"
        )
    if reduction not in _REDUCTIONS:
        _reduce(logits, reduction, "cross_entropy")  # raises, listing the valid ones
    if z.dtype.kind != "f":
        logits = logits._floats()
    return CrossEntropy.apply(logits, target=t, reduction=reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1] (logs clipped at -100)."""
    p, t = _as_tensor(input, "binary_cross_entropy"), _as_tensor(target, "binary_cross_entropy")
    _same_shape(p, t, "binary_cross_entropy")
    if p.size and (p.data.min() < 0 or p.data.max() > 1):
        raise ValueError(
            "binary_cross_entropy: input must hold probabilities in [0, 1] (apply sigmoid "
            "first, or use binary_cross_entropy_with_logits on raw scores)"
        )
    loss = BinaryCrossEntropy.apply(p, t.astype(p.dtype))
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, reduction: str = "mean"
) -> Tensor:
    """binary_cross_entropy(sigmoid(x), t), computed stably from the logits x.

    It is the two-class cross-entropy over the logits [0, x]: log sigmoid(x) and
    log(1 - sigmoid(x)) are the two entries of log_softmax([0, x]), exact for any x.
    """
    x, t = (
        _as_tensor(input, "binary_cross_entropy_with_logits"),
        _as_tensor(target, "binary_cross_entropy_with_logits"),
    )
    _same_shape(x, t, "binary_cross_entropy_with_logits")
    log_probs = stack([x * 0, x], axis=-1).log_softmax(axis=-1)  # [log(1 - s), log s]
    loss = -(t * log_probs[..., 1] + (1 - t) * log_probs[..., 0])
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")
