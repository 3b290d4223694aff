"""First steps: one neuron, its cost, and the gradients back-propagation finds.

A neuron computes a weighted sum of its inputs plus a bias, Z = W x + b, and squashes it with an
activation, here the sigmoid a = 1 / (1 + e^-Z). With a target y, the squared-error cost is
C = (a - y)^2. Back-propagation is the chain rule applied from C back to W and b:

    dC/da = 2 (a - y)
    da/dZ = a (1 - a)
    dZ/dW = x,   dZ/db = 1
    so dC/dW = 2 (a - y) a (1 - a) x   and   dC/db = 2 (a - y) a (1 - a)

This script lets the engine compute those gradients, checks them against the formula above and
against finite differences, then takes a few steps of gradient descent.

Run:  python examples/first_steps.py
"""

from __future__ import annotations

import numpy as np

import tinygrad_edu as tg


def neuron_cost(W: tg.Tensor, b: tg.Tensor, x: tg.Tensor, y: float) -> tg.Tensor:
    """C = (sigmoid(W x + b) - y)^2 for one example."""
    Z = W @ x + b
    a = Z.sigmoid()
    return (a - y) ** 2


def main() -> dict:
    tg.set_default_dtype(np.float64)  # float64 so that the comparisons below are exact
    x = tg.Tensor([0.5, -1.0, 2.0], name="x")  # three inputs
    W = tg.Tensor([0.1, 0.4, -0.3], requires_grad=True, name="W")  # one weight per input
    b = tg.Tensor(0.13, requires_grad=True, name="b")
    y = 1.0  # the answer we want the neuron to give

    # forward and backward
    C = neuron_cost(W, b, x, y)
    C.backward()
    print(f"cost C = {C.item():.6f}")
    print(f"engine:  dC/dW = {W.grad.numpy()},  dC/db = {b.grad.item():.6f}")

    # the same gradients from the chain rule, written out by hand with numpy
    Z = W.numpy() @ x.numpy() + b.item()
    a = 1 / (1 + np.exp(-Z))
    dC_dZ = 2 * (a - y) * a * (1 - a)
    print(f"by hand: dC/dW = {dC_dZ * x.numpy()},  dC/db = {dC_dZ:.6f}")
    hand_error = max(np.abs(W.grad.numpy() - dC_dZ * x.numpy()).max(), abs(b.grad.item() - dC_dZ))
    print(f"largest difference engine vs hand: {hand_error:.2e}")

    # and from finite differences, with no calculus at all
    assert tg.gradcheck(lambda W, b: neuron_cost(W, b, x, y), [W, b])
    print("gradcheck: the engine's gradients match finite differences")

    # gradient descent: step against the gradient and watch the cost fall
    costs = []
    lr = 2.0
    for _ in range(20):
        W.grad = b.grad = None
        C = neuron_cost(W, b, x, y)
        C.backward()
        costs.append(C.item())
        with tg.no_grad():  # the update itself must not become part of the graph
            W.data -= lr * W.grad.data
            b.data -= lr * b.grad.data
    print(f"cost over 20 steps of gradient descent: {costs[0]:.4f} -> {costs[-1]:.4f}")
    tg.set_default_dtype(np.float32)
    return {"hand_error": hand_error, "first_cost": costs[0], "last_cost": costs[-1]}


if __name__ == "__main__":
    main()
