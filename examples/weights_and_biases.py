"""Weights and biases: the 3-4-2 network of "The Mathematics of Neural Networks", worked through.

The article's network has 3 inputs, a hidden layer of 4 neurons with biases 0.13, 0.14, 0.15 and
0.16, and 2 outputs. It writes the weights between a layer of N neurons and one of M neurons as an
N-by-M matrix W (one row per input, one column per neuron) and computes a layer as

    Z = W^T x + b,        a = f(Z)

Its weights appear only in a picture, so the numbers below are our own, chosen to be easy to
read (the largest, W22 = 0.9, connects input 2 to hidden neuron 2, as in the article's picture);
the output biases and the input are ours too. Both layers use the sigmoid f(z) = 1 / (1 + e^-z).

tg.nn.Linear stores its weight the other way round, as an M-by-N matrix (outputs by inputs, like
PyTorch), and computes y = x W^T + b. The two conventions describe the same layer:
Linear.weight is the article's W transposed. The script checks that both give the same Z.

Then it back-propagates a squared-error cost C = 1/2 * sum((a2 - y)^2) against a target y,
prints each step of the chain rule with tg.explain, compares the gradients with the formulas
worked by hand, and draws the graph with values and gradients.

Run:  python examples/weights_and_biases.py [out.png]      (default: weights_and_biases.png)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

import tinygrad_edu as tg

# The article's convention: W[i, j] connects input i to neuron j (N-by-M).
W1 = np.array(
    [
        [0.1, 0.3, 0.5, 0.2],  # from input 1 to hidden neurons 1..4
        [0.4, 0.9, 0.2, 0.6],  # from input 2 (W22 = 0.9 is the largest)
        [0.7, 0.2, 0.3, 0.8],  # from input 3
    ]
)
b1 = np.array([0.13, 0.14, 0.15, 0.16])  # the article's hidden biases
W2 = np.array(
    [
        [0.5, 0.1],  # from hidden neuron 1 to outputs 1 and 2
        [0.2, 0.6],
        [0.4, 0.3],
        [0.1, 0.7],
    ]
)
b2 = np.array([0.1, 0.2])
x_in = np.array([0.5, 1.0, 0.25])  # the three input neurons
y_target = np.array([1.0, 0.0])  # what the two outputs should be


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def by_hand() -> dict:
    """Forward and backward with numpy, the chain rule written out layer by layer."""
    z1 = W1.T @ x_in + b1
    a1 = sigmoid(z1)
    z2 = W2.T @ a1 + b2
    a2 = sigmoid(z2)
    cost = 0.5 * np.sum((a2 - y_target) ** 2)
    delta2 = (a2 - y_target) * a2 * (1 - a2)  # dC/dz2 = dC/da2 * da2/dz2
    delta1 = (W2 @ delta2) * a1 * (1 - a1)  # dC/dz1 = (W2 dC/dz2) * da1/dz1
    return {
        "z1": z1,
        "a1": a1,
        "z2": z2,
        "a2": a2,
        "cost": cost,
        "dC/db2": delta2,
        "dC/dW2": np.outer(a1, delta2),  # article layout (4 x 2): dz2_j/dW2_ij = a1_i
        "dC/db1": delta1,
        "dC/dW1": np.outer(x_in, delta1),  # article layout (3 x 4): dz1_j/dW1_ij = x_i
    }


def main(out: str | Path = "weights_and_biases.png", render: bool = True) -> dict:
    f64 = np.float64
    net = tg.nn.Sequential(
        tg.nn.Linear(3, 4, dtype=f64),
        tg.nn.Sigmoid(),
        tg.nn.Linear(4, 2, dtype=f64),
        tg.nn.Sigmoid(),
    )
    # Linear.weight is outputs-by-inputs: the article's W transposed.
    net.load_state_dict({"0.weight": W1.T, "0.bias": b1, "2.weight": W2.T, "2.bias": b2})
    print("weights chosen for readability (the article gives them only as a picture):")
    print(f"W1 (article layout, 3 inputs x 4 neurons):\n{W1}")
    print(f"W2 (article layout, 4 neurons x 2 outputs):\n{W2}")
    print(f"Linear.weight of layer 0 (4 x 3) is W1 transposed:\n{net[0].weight.numpy()}")

    x = tg.Tensor(x_in, name="x")
    y = tg.Tensor(y_target, name="y")
    z1 = net[0](x)
    a1 = net[1](z1)
    z2 = net[2](a1)
    a2 = net[3](z2)
    cost = ((a2 - y) ** 2).sum() * 0.5
    for t, name in [(z1, "z1"), (a1, "a1"), (z2, "z2"), (a2, "a2"), (cost, "C")]:
        t.name = name

    # The two conventions give the same pre-activations: Z = W^T x + b  ==  x W_linear^T + b.
    z1_article = tg.Tensor(W1).T @ x + tg.Tensor(b1)
    assert np.allclose(z1_article.numpy(), z1.numpy(), rtol=0, atol=1e-15)
    print(f"Z1 = W1^T x + b1 = {z1_article.numpy()}  (the same from Linear: {z1.numpy()})")
    print(f"a2 = {a2.numpy()},  cost C = {cost.item():.6f}")

    print("\nThe backward pass, step by step (tg.explain):")
    print(tg.explain(cost, model=net))
    cost.backward(retain_graph=True)  # keep the graph so that it can still be drawn

    hand = by_hand()
    engine = {
        "dC/db2": net[2].bias.grad.numpy(),
        "dC/dW2": net[2].weight.grad.numpy().T,  # back to the article's layout
        "dC/db1": net[0].bias.grad.numpy(),
        "dC/dW1": net[0].weight.grad.numpy().T,
    }
    worst = max(np.abs(engine[k] - hand[k]).max() for k in engine)
    print(f"\nengine vs chain rule by hand: largest difference {worst:.1e}")

    if render:
        if shutil.which("dot") is None:
            print(
                "Graphviz's `dot` is not installed, so the graph was not drawn (see graphviz.org)"
            )
        else:
            out = Path(out)
            picture = tg.draw_graph(cost, model=net, rankdir="TB")
            path = picture.render(outfile=out.with_suffix(".png"), cleanup=True)
            print(f"wrote {path}")
    return {
        "z1": z1.numpy().copy(),
        "a1": a1.numpy().copy(),
        "z2": z2.numpy().copy(),
        "a2": a2.numpy().copy(),
        "cost": cost.item(),
        **{k: v.copy() for k, v in engine.items()},
        "hand_error": worst,
    }


if __name__ == "__main__":
    main(*sys.argv[1:2])
