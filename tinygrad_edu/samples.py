"""Valid random inputs for every op of the table (opinfo.py): shapes that broadcast, values away
from kinks, axes, indices.

A generator receives a `Chooser`, which draws ints, choices and arrays. The tests back it with
hypothesis (so failures shrink to the smallest shape); the command line backs it with a seeded
numpy generator (so hypothesis is not needed at run time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


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
