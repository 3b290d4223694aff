"""Flat parameters and optimizer state for a replayed step: one buffer per group and dtype.

The first recording of a step that calls `optimizer.step()` moves the parameters of each
optimizer group (of one dtype) into one flat buffer `P` (each `p.data` becomes a view of it),
and the optimizer's per-parameter state (momentum, Adam's averages) into flat buffers of the
same layout. A replay then runs the optimizer's own `update` once per buffer instead of once per
parameter (`optimizer_step`), bit for bit what the eager step computes.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

import numpy as np

from tinygrad_edu.jit import JitError
from tinygrad_edu.jit.capture import OptimizerEvent
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.versions import bump_versions


class Bucket:
    """The parameters of one optimizer group and dtype, in one flat buffer `P`, with the
    optimizer's per-parameter state in flat buffers of the same layout."""

    def __init__(self, group: dict, params: list[Tensor], optimizer: Any) -> None:
        self.group, self.params = group, params
        self.sizes = [p.size for p in params]
        self.offsets = list(np.cumsum([0] + self.sizes[:-1]))
        dtype = params[0].dtype
        self.old = [p.data for p in params]  # where each was, until a program relocates it
        self.P = np.empty(sum(self.sizes), dtype)
        self.views = []
        for p, off, n in zip(params, self.offsets, self.sizes):
            view = self.P[off : off + n].reshape(p.shape)
            view[...] = p.data
            p.data = view
            self.views.append(view)
        self.flatten_state(optimizer)

    def flatten_state(self, optimizer: Any) -> None:
        states = [optimizer.state.setdefault(id(p), {}) for p in self.params]
        keys = set(states[0])
        if any(set(s) != keys for s in states):
            raise JitError(
                f"tg.jit: the {type(optimizer).__name__} state of the parameters of one group "
                "has different entries; step it eagerly once more before jitting"
            )
        self.flat_state: dict[str, Any] = {}
        self.scalar_keys = []
        for key in sorted(keys):
            values = [s[key] for s in states]
            if isinstance(values[0], np.ndarray):
                flat = np.empty(sum(self.sizes), values[0].dtype)
                for s, v, off, n, p in zip(states, values, self.offsets, self.sizes, self.params):
                    view = flat[off : off + n].reshape(p.shape)
                    view[...] = v
                    s[key] = view
                self.flat_state[key] = flat
            else:
                if any(v != values[0] for v in values):
                    raise JitError(
                        f"tg.jit: the optimizer's {key!r} differs between parameters of one "
                        "group (some missed a step); tg.jit updates a group's parameters as one"
                    )
                self.flat_state[key] = values[0]
                self.scalar_keys.append(key)
        self.states = states
        self.state_dict_obj = optimizer.state

    def params_valid(self) -> bool:
        return all(p.data is v for p, v in zip(self.params, self.views))

    def state_valid(self, optimizer: Any) -> bool:
        if optimizer.state is not self.state_dict_obj:
            return False
        for p, s in zip(self.params, self.states):
            if optimizer.state.get(id(p)) is not s:
                return False
        return True


_buckets: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # optimizer -> {key: Bucket}


def adopt(event: OptimizerEvent) -> list[Bucket]:
    """The flat buckets for the parameters this optimizer step updated (made on first use)."""
    opt = event.optimizer
    known = _buckets.setdefault(opt, {})
    out = []
    for group, items in event.groups:
        by_dtype: dict[str, list[Tensor]] = {}
        for p, v in items:
            if v is not None:
                by_dtype.setdefault(p.dtype.str, []).append(p)
        for dtype, params in by_dtype.items():
            key = (id(group), dtype)
            b = known.get(key)
            if b is not None and b.group is group and _same(b.params, params) and b.params_valid():
                if not b.state_valid(opt):
                    b.flatten_state(opt)
            else:
                b = known[key] = Bucket(group, params, opt)
            out.append(b)
    return out


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def optimizer_step(opt: Any, buckets: list, params: list, missing: int) -> None:
    """The recorded optimizer's own update rule, once per flat buffer."""
    update = opt.update
    for b, G in buckets:
        flat, states = b.flat_state, b.states
        for key in b.scalar_keys:  # Adam's step count: the same for the whole group
            value = states[0][key]
            for s in states:
                if s[key] != value:
                    raise JitError(
                        f"tg.jit: the optimizer's {key!r} now differs between parameters of one "
                        "group; the flat update needs them equal"
                    )
            flat[key] = value
        P = b.P
        P -= update(P, G, flat, b.group)
        for key in b.scalar_keys:
            value = flat[key]
            for s in states:
                s[key] = value
    bump_versions(params)  # an in-place change of every parameter, as the eager step counts it
    if missing:
        warnings.warn(
            f"{type(opt).__name__}.step(): {missing} parameter(s) got no gradient while others "
            "did; were they used in the loss?",
            UserWarning,
            stacklevel=3,
        )
