"""Logistic regression: telling a 3 from an 8 with one sigmoid neuron.

Each 8x8 image is a row x of 64 pixel values. The model is a single neuron,

    z = x . w + b,        a = sigmoid(z) = 1 / (1 + e^-z)     (a: the probability of an 8)

and for m images with labels y (1 for an 8, 0 for a 3) its cost is the log-loss

    C(w, b) = -(1/m) sum_i [ y_i log a_i + (1 - y_i) log(1 - a_i) ].

Its gradient, by the chain rule (worked out in `hand_gradient` below), is remarkably simple:

    dC/dw = (1/m) sum_i (a_i - y_i) x_i   = X^T (a - y) / m
    dC/db = (1/m) sum_i (a_i - y_i)       = mean(a - y)

Gradient descent repeats w <- w - lr dC/dw, b <- b - lr dC/db. The script lets the engine compute
the gradient by back-propagation, and every few steps compares it with the formula above (in
float64 they agree to ~1e-17). It reports the final cost, the accuracy on the training images and
on images it never saw, and draws the 64 learnt weights as an 8x8 picture.

Run:  python examples/logistic_regression.py [out_dir]   (writes logistic_weights.png into out_dir)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.datasets import load_digits, train_test_split

DIGIT_0, DIGIT_1 = 3, 8  # y = 0 for a 3, y = 1 for an 8: a pair that is easy to confuse
LEARNING_RATE = 0.5
STEPS = 300
CHECK_EVERY = 25


def threes_and_eights(seed: int = 0) -> tuple:
    """Pixels scaled to [0, 1] (float64) and 0/1 labels, split 75% / 25%."""
    X, y = load_digits()
    keep = (y == DIGIT_0) | (y == DIGIT_1)
    X, y = X[keep].astype(np.float64) / 16, (y[keep] == DIGIT_1).astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=seed)
    return X_train, X_test, y_train.astype(np.float64), y_test.astype(np.float64)


def log_loss(X: tg.Tensor, y: tg.Tensor, w: tg.Tensor, b: tg.Tensor) -> tg.Tensor:
    """C = -mean(y log a + (1 - y) log(1 - a)),  a = sigmoid(X w + b)."""
    a = (X @ w + b).sigmoid()
    return -(y * a.log() + (1 - y) * (1 - a).log()).mean()


def hand_gradient(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple:
    """The gradient of the log-loss, derived by hand.

    For one image, C_i = -[y log a + (1 - y) log(1 - a)] with a = sigmoid(z), z = x . w + b:
        dC_i/da = -y/a + (1 - y)/(1 - a) = (a - y) / (a (1 - a))
        da/dz   = a (1 - a)                       (the sigmoid's derivative)
        dC_i/dz = dC_i/da * da/dz = a - y          (the a (1 - a) cancels)
        dz/dw   = x,   dz/db = 1
    so dC_i/dw = (a - y) x and dC_i/db = a - y; C is the mean over the m images, and so are
    its derivatives: dC/dw = X^T (a - y) / m,  dC/db = mean(a - y).
    """
    a = 1 / (1 + np.exp(-(X @ w + b)))
    return X.T @ (a - y) / len(y), float(np.mean(a - y))


def plot_weights(w: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 4.6))
    limit = np.abs(w).max()
    image = ax.imshow(w.reshape(8, 8), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(
        f"The 64 learnt weights, one per pixel\nred: ink here says {DIGIT_1}, blue: says {DIGIT_0}"
    )
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(image, ax=ax, label="weight w (for pixels scaled to [0, 1])")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(out_dir: str | Path = ".") -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    X_train, X_test, y_train, y_test = threes_and_eights()
    print(
        f"{len(y_train)} training and {len(y_test)} test images of {DIGIT_0}s and {DIGIT_1}s, "
        f"64 pixels each; label 1 means {DIGIT_1}"
    )

    X, y = tg.Tensor(X_train), tg.Tensor(y_train)  # float64, as the numpy arrays are
    w = tg.Tensor(np.zeros(64), requires_grad=True)
    b = tg.Tensor(np.zeros(()), requires_grad=True)
    costs, worst_difference = [], 0.0
    print(f"gradient descent, learning rate {LEARNING_RATE}:")
    for step in range(STEPS + 1):
        cost = log_loss(X, y, w, b)
        w.grad = b.grad = None
        cost.backward()
        costs.append(cost.item())
        if step % CHECK_EVERY == 0:
            dw, db = hand_gradient(X_train, y_train, w.numpy(), b.item())
            difference = max(np.abs(w.grad.numpy() - dw).max(), abs(b.grad.item() - db))
            worst_difference = max(worst_difference, difference)
            if step % (4 * CHECK_EVERY) == 0:
                print(
                    f"  step {step:3d}: cost {cost.item():.5f};  engine vs hand-derived "
                    f"gradient: largest difference {difference:.1e}"
                )
        if step == STEPS:
            break  # the last pass only measures the final cost
        with tg.no_grad():
            w -= LEARNING_RATE * w.grad
            b -= LEARNING_RATE * b.grad
    assert worst_difference < 1e-6, "the engine and the formula should agree"
    print(f"checked every {CHECK_EVERY} steps: largest difference {worst_difference:.1e}")

    with tg.no_grad():
        p_train = (X @ w + b).sigmoid().numpy()
        p_test = (tg.Tensor(X_test) @ w + b).sigmoid().numpy()
    train_accuracy = float(((p_train >= 0.5) == (y_train == 1)).mean())
    test_accuracy = float(((p_test >= 0.5) == (y_test == 1)).mean())
    print(f"final cost {costs[-1]:.5f}")
    print(f"accuracy: {train_accuracy:.2%} on the training images, {test_accuracy:.2%} on new ones")

    path = out_dir / "logistic_weights.png"
    plot_weights(w.numpy(), path)
    print(
        f"wrote {path} (the weights as an image: where ink pushes towards {DIGIT_1} or {DIGIT_0})"
    )
    return {
        "first_cost": costs[0],
        "final_cost": costs[-1],
        "costs": costs,
        "weights": w.numpy().copy(),
        "bias": b.item(),
        "max_gradient_difference": worst_difference,
        "train_accuracy": train_accuracy,
        "test_accuracy": test_accuracy,
        "png": path,
    }


if __name__ == "__main__":
    main(*sys.argv[1:2])
