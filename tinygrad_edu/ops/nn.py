"""Coarse primitives for the two hot spots of a training step.

Each is exactly what its composite would compute (`x @ W.T + b`; `-log_softmax(z)[target]`),
done in one node with one call into numpy instead of three to five: at the sizes people learn
with, the per-node overhead, not the arithmetic, decides the speed (see benchmarks/). Their
backward formulas are still written with operations that work on Tensors, so second
derivatives keep working.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.function import Function


class Linear(Function):
    """z = x W^T + b;   dz/dx = W,   dz/dW = x (as g^T x),   dz/db = 1 (g summed over the batch)"""

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        self.save_for_backward(x, w)
        z = x @ w.T
        if b is not None:
            z += b  # z is a fresh array: adding in place saves one temporary
        return z

    def backward(self, grad: Any) -> tuple:
        x, w = self.saved_tensors
        needs = self.needs_input_grad
        gx = grad @ w if needs[0] else None
        gw = gb = None
        if needs[1] or (len(needs) > 2 and needs[2]):
            g2 = grad.reshape((-1, grad.shape[-1]))  # batch axes flattened: (N, out)
            if needs[1]:
                gw = g2.T @ x.reshape((-1, x.shape[-1]))
            if len(needs) > 2 and needs[2]:
                gb = g2.sum(axis=0)
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)


class CrossEntropy(Function):
    """L = -log softmax(z)[target] (averaged or summed over the batch);   dL/dz = softmax(z) - onehot(target)"""

    def __init__(self, reduction: str) -> None:
        self.reduction = reduction

    def forward(self, z: np.ndarray, target: np.ndarray) -> np.ndarray:
        shifted = z - z.max(axis=1, keepdims=True)  # stable for logits of any size
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        rows = np.arange(len(target))
        losses = np.log(total[:, 0]) - shifted[rows, target]
        probs = exp / total
        self.save_for_backward(z, probs, target)
        if self.reduction == "none":
            return losses
        loss = losses.sum()
        return loss / len(target) if self.reduction == "mean" else loss

    def backward(self, grad: Any) -> tuple:
        z, probs, target = self.saved_tensors
        if not isinstance(grad, np.ndarray):
            # recording a graph (create_graph): softmax must be a function of z, not a constant
            probs = z.softmax(axis=1)
        rows = np.arange(len(target))
        onehot = np.zeros(probs.shape, dtype=probs.dtype)
        onehot[rows, np.asarray(target.data if hasattr(target, "grad_fn") else target)] = 1
        if self.reduction == "none":
            scale = grad.reshape((-1, 1))
        elif self.reduction == "mean":
            scale = grad / len(target)
        else:
            scale = grad
        return (probs - onehot) * scale, None
