"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_edu.optim.optimizer import Optimizer


class SGD(Optimizer):
    """p <- p - lr * v, where (PyTorch's rule):

        g = grad + weight_decay * p
        v = g                                  on the first step (with momentum)
        v = momentum * v + (1 - dampening) * g  afterwards
        step direction = g + momentum * v if nesterov else v   (just g without momentum)

    >>> opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {
            "lr": float(lr),
            "momentum": float(momentum),
            "dampening": float(dampening),
            "weight_decay": float(weight_decay),
            "nesterov": bool(nesterov),
        }
        super().__init__(params, defaults)

    def _check(self, group: dict) -> None:
        super()._check(group)
        if group["momentum"] < 0:
            raise ValueError(f"SGD: invalid momentum {group['momentum']} (< 0)")
        if group["weight_decay"] < 0:
            raise ValueError(f"SGD: invalid weight_decay {group['weight_decay']} (< 0)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")

    def update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> np.ndarray:
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        momentum = group["momentum"]
        if momentum:
            v = state.get("momentum_buffer")
            if v is None:
                v = state["momentum_buffer"] = g.copy()
            else:
                v *= momentum
                dampening = group["dampening"]
                v += g if dampening == 0 else (1 - dampening) * g
            g = g + momentum * v if group["nesterov"] else v
        return group["lr"] * g
