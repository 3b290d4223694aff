"""Adam and AdamW: steps scaled by running averages of the gradient and its square."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_edu.optim.optimizer import Optimizer


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with PyTorch's update rule:

        g = grad + weight_decay * p             (L2 penalty; AdamW decays p directly instead)
        m = beta1 * m + (1 - beta1) * g         running mean of the gradient
        v = beta2 * v + (1 - beta2) * g^2       running mean of its square
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    >>> opt = tg.optim.Adam(model.parameters(), lr=1e-3)
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {
            "lr": float(lr),
            "betas": (float(betas[0]), float(betas[1])),
            "eps": float(eps),
            "weight_decay": float(weight_decay),
        }
        super().__init__(params, defaults)

    def _check(self, group: dict) -> None:
        super()._check(group)
        b1, b2 = group["betas"]
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {(b1, b2)}")
        if group["eps"] < 0:
            raise ValueError(f"{type(self).__name__}: invalid eps {group['eps']} (< 0)")
        if group["weight_decay"] < 0:
            raise ValueError(
                f"{type(self).__name__}: invalid weight_decay {group['weight_decay']} (< 0)"
            )

    def update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> np.ndarray:
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        b1, b2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        decay = None
        if wd and self.decoupled_weight_decay:
            decay = (lr * wd) * p  # AdamW: shrink the weights themselves
        elif wd:
            g = g + wd * p
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - b1) * (g - m)  # = b1 * m + (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        denom = np.sqrt(v) / math.sqrt(1 - b2**t) + eps
        step = (lr / (1 - b1**t)) * m / denom
        return step if decay is None else step + decay


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019): p <- p - lr * wd * p,
    then the Adam step on the plain gradient. Default weight_decay 1e-2."""

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
