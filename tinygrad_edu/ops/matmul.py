"""Matrix product with numpy's rules: 1-D operands and batched (broadcast) leading axes."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.function import Function


class MatMul(Function):
    """z = x @ y;   dL/dx = g @ y^T,   dL/dy = x^T @ g   (g = dL/dz, from above)"""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.save_for_backward(x, y)
        return x @ y

    def backward(self, grad: Any) -> tuple:
        x, y = self.saved_tensors
        if x.ndim == 1 and y.ndim == 1:  # a dot product: z is a scalar
            return grad * y, grad * x
        dx, dy = self.needs_input_grad
        x_vec, y_vec = x.ndim == 1, y.ndim == 1
        # a 1-D x is a row (1, n) and a 1-D y a column (n, 1); that axis is then dropped again
        if x_vec:
            grad = grad.reshape(grad.shape[:-1] + (1,) + grad.shape[-1:])
            x = x.reshape((1,) + x.shape)
        if y_vec:
            grad = grad.reshape(grad.shape + (1,))
            y = y.reshape(y.shape + (1,))
        gx = grad @ y.swapaxes(-1, -2) if dx else None
        gy = x.swapaxes(-1, -2) @ grad if dy else None
        if x_vec and gx is not None:
            gx = gx.reshape(gx.shape[:-2] + gx.shape[-1:])
        if y_vec and gy is not None:
            gy = gy.reshape(gy.shape[:-1])
        return gx, gy  # batch axes that were broadcast are summed away by the engine

    def describe_error(self, inputs: tuple, err: Exception) -> str:
        a, b = (t.shape for t in inputs)
        if len(a) == 0 or len(b) == 0:
            return f"MatMul: both operands need at least 1 dimension, got shapes {a} and {b}"
        inner_a = a[-1]
        inner_b = b[0] if len(b) == 1 else b[-2]
        if inner_a != inner_b:
            return (
                f"MatMul: shapes {a} and {b} do not fit: the left operand's last dimension "
                f"({inner_a}) must equal the right operand's "
                f"{'only' if len(b) == 1 else 'second-to-last'} dimension ({inner_b})"
            )
        batch_a, batch_b = a[:-2], b[:-2]
        return (
            f"MatMul: the batch dimensions of shapes {a} and {b}, {batch_a} and {batch_b}, do "
            "not broadcast: from the right, each pair of sizes must be equal or one of them 1"
        )
