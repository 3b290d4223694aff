"""Coarse primitives for the hot spots of a training step, and the binary cross-entropy.

Linear and CrossEntropy are exactly what their composites would compute (`x @ W.T + b`;
`-log_softmax(z)[target]`), done in one node with one call into numpy instead of three to
five: at the sizes people learn with, the per-node overhead, not the arithmetic, decides the
speed (see benchmarks/). Their
backward formulas are still written with operations that work on Tensors, so second
derivatives keep working. BinaryCrossEntropy is a primitive for a different reason: PyTorch's
gradient at p = 0 or 1 is finite (p(1 - p) is floored), which no composite of log and clip gives.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu import function
from tinygrad_edu.function import Function
from tinygrad_edu.ops import dual


class Linear(Function):
    """z = x W^T + b;   dL/dx = g W,   dL/dW = g^T x,   dL/db = g summed over the batch"""

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        self.save_for_backward(x, w)
        z = x @ w.T
        if b is not None:
            if b.dtype == z.dtype:
                z += b  # z is a fresh array: adding in place saves a temporary
            else:
                z = z + b  # numpy's promotion, as x @ W.T + b would give
        return z

    def backward(self, grad: Any) -> tuple:
        x, w = self.saved_tensors
        needs = self.needs_input_grad
        gx = grad @ w if needs[0] else None
        gw = gb = None
        if needs[1] or (len(needs) > 2 and needs[2]):
            if grad.ndim != 2:  # batch axes flattened: (N, out) and (N, in)
                grad, x = grad.reshape((-1, grad.shape[-1])), x.reshape((-1, x.shape[-1]))
            if needs[1]:
                gw = grad.T @ x
            if len(needs) > 2 and needs[2]:
                gb = grad.sum(axis=0)
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)


class CrossEntropy(Function):
    """L = -log softmax(z)[target];   dL/dz = softmax(z) - onehot(target)   (mean: both / N)"""

    def __init__(self, target: np.ndarray, reduction: str) -> None:
        self.target, self.reduction = target, reduction  # class indices: not differentiable
        self.rows = np.arange(len(target))  # with target: the (row, class) of each right answer

    def forward(self, z: np.ndarray) -> np.ndarray:
        shifted = z - z.max(axis=1, keepdims=True)  # stable for logits of any size
        picked = shifted[self.rows, self.target]
        probs = np.exp(shifted, out=shifted)  # shifted is not needed again: reuse its memory
        total = probs.sum(axis=1, keepdims=True)
        losses = np.log(total[:, 0]) - picked
        probs /= total
        self.save_for_backward(z, probs)
        if self.reduction == "none":
            return losses
        loss = losses.sum()
        return loss / len(self.target) if self.reduction == "mean" else loss

    def backward(self, grad: Any) -> Any:
        z, probs = self.saved_tensors
        if isinstance(grad, function.Tensor):
            # recording a graph (create_graph): softmax must be a function of z, not a constant
            onehot = np.zeros(z.shape, dtype=z.dtype)
            onehot[self.rows, self.target] = 1
            dz = z.softmax(axis=1) - onehot
        else:
            dz = probs.copy()  # softmax - onehot, without building the onehot matrix
            dz[self.rows, self.target] -= 1
        if self.reduction == "none":
            return dz * grad.reshape((-1, 1))
        if self.reduction == "mean":
            grad = grad / len(self.target)
        return dz * grad


class BinaryCrossEntropy(Function):
    """L = -(t log p + (1-t) log(1-p));   dL/dp = (p-t) / (p(1-p)),   dL/dt = log(1-p) - log p"""

    def forward(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped like PyTorch
            log_p = np.maximum(np.log(p), -100)
            log_q = np.maximum(np.log(1 - p), -100)
        self.save_for_backward(p, t, log_p, log_q)
        return -(t * log_p + (1 - t) * log_q)

    def backward(self, grad: Any) -> tuple:
        p, t, log_p, log_q = self.saved_tensors
        if isinstance(grad, function.Tensor):  # recording a graph: the logs as functions of p
            log_p, log_q = p.log().clip(lo=-100), (1 - p).log().clip(lo=-100)
        dp, dt = self.needs_input_grad
        # p (1 - p) is floored at 1e-12 (as in PyTorch): finite gradients at p = 0 and p = 1
        return (
            grad * (p - t) / dual.clip_min(p * (1 - p), 1e-12) if dp else None,
            grad * (log_q - log_p) if dt else None,
        )
