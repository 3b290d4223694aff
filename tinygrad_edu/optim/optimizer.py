"""Optimizer: the base of SGD and Adam. It holds parameter groups and per-parameter state,
and turns gradients into in-place parameter updates (made on the arrays themselves: an update is
never part of any graph)."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_edu.tensor import Tensor
from tinygrad_edu.versions import bump_versions


class Optimizer:
    """Base class. `params` is an iterable of tensors, or of dicts ("param groups") each with
    "params" and its own hyper-parameters; `defaults` fills in what a group doesn't set."""

    def __init__(self, params: Iterable[Any], defaults: dict) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors (e.g. "
                "model.parameters()), got a single Tensor; wrap it in a list"
            )
        if hasattr(params, "parameters") and callable(params.parameters):
            raise TypeError(
                f"{type(self).__name__}: expected the parameters to optimize, got the model "
                f"({type(params).__name__}) itself; pass model.parameters()"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: dict[int, dict] = {}  # per parameter, keyed by id(param)
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict) -> None:
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__} can only optimize Tensors, got {type(p).__name__}"
                )
            if not p.requires_grad or not p.is_leaf:
                raise ValueError(
                    f"{type(self).__name__} can only optimize leaf tensors that require grad; "
                    f"got one of shape {p.shape} (requires_grad={p.requires_grad}, "
                    f"is_leaf={p.is_leaf})"
                )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        full = {**self.defaults, **group, "params": params}
        self._check(full)
        self.param_groups.append(full)

    def _check(self, group: dict) -> None:
        """Validate hyper-parameters (subclasses add their own checks)."""
        if group["lr"] < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {group['lr']} (< 0)")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every managed parameter (`.grad = None`)."""
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        states, update = self.state, self.update
        updated, missing = [], []
        try:
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        missing.append(p)
                        continue
                    state = states.get(id(p))
                    if state is None:
                        state = states[id(p)] = {}
                    # p -= step on the arrays themselves: an update is never part of a graph,
                    # and skipping no_grad() and p.sub_()'s checks saved 2 us of a 16-18 us
                    # step at S
                    data = p.data
                    data -= update(data, p.grad.data, state, group)
                    updated.append(p)
        finally:  # even if an update failed half-way, what did change is counted
            bump_versions(updated)  # as any in-place change: an old graph must notice it
        if updated and missing:
            shapes = ", ".join(str(p.shape) for p in missing[:5])
            warnings.warn(
                f"{type(self).__name__}.step(): {len(missing)} parameter(s) got no gradient "
                f"(shapes {shapes}) while others did; were they used in the loss?",
                UserWarning,
                stacklevel=2,
            )

    def update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> np.ndarray:
        """The amount to subtract from parameter p given its gradient g (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must define update()")  # abstract

    # -- saving ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}, the
        parameters numbered in order across groups (PyTorch's layout)."""
        index: dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": ids})
        state = {
            index[pid]: {k: (Tensor(v) if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for pid, s in self.state.items()
            if pid in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by `state_dict` (for the same parameters)."""
        groups = state_dict.get("param_groups")
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: expected {len(self.param_groups)} "
                f"parameter group(s), got {None if groups is None else len(groups)}"
            )
        params: dict[int, Tensor] = {}
        for mine, saved in zip(self.param_groups, groups):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: a group has "
                    f"{len(mine['params'])} parameters here but {len(saved['params'])} in the "
                    "saved state"
                )
            params.update(zip(saved["params"], mine["params"]))
        new_state: dict[int, dict] = {}
        for i, s in state_dict.get("state", {}).items():
            p = params.get(int(i))
            if p is None:
                raise ValueError(f"load_state_dict: state for unknown parameter index {i}")
            entry = {}
            for k, v in s.items():
                if isinstance(v, Tensor | np.ndarray):
                    arr = np.array(v.data if isinstance(v, Tensor) else v, dtype=p.dtype)
                    if arr.shape != p.shape:
                        raise ValueError(
                            f"load_state_dict: state {k!r} of parameter {i} has shape "
                            f"{arr.shape}, expected {p.shape}"
                        )
                    entry[k] = arr
                else:
                    entry[k] = copy.deepcopy(v)
            new_state[id(p)] = entry
        for mine, saved in zip(self.param_groups, groups):
            mine.update({k: v for k, v in saved.items() if k != "params"})
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in g.items() if k != "params")
        return "\n".join([*lines, ")"])
