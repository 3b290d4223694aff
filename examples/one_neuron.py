"""One neuron: a weighted sum, an activation, and a yes-or-no decision.

A neuron with inputs x = (x_1, ..., x_n), weights w = (w_1, ..., w_n) and a bias b computes

    z = w . x + b = w_1 x_1 + ... + w_n x_n + b        (the weighted sum)
    a = f(z)                                           (the activation)

Three common choices of f, with the derivatives back-propagation needs:

    ReLU     f(z) = max(0, z)            f'(z) = 1 if z > 0, else 0
    tanh     f(z) = tanh(z)              f'(z) = 1 - tanh(z)^2
    sigmoid  s(z) = 1 / (1 + e^-z)       s'(z) = s(z) (1 - s(z))

Part 1 asks the engine for f'(z) on a grid of z values (backward with an upstream gradient of
ones, so each element gets its own derivative), checks the numbers against the formulas above and
draws each function beside its derivative.

Part 2 makes a decision with the sigmoid. Its output lies between 0 and 1, so it can be read as
a probability, and thresholding it at 0.5 turns it into a label: a >= 0.5 means "cat", below means
"dog". Since s(z) >= 0.5 exactly when z >= 0, the neuron splits the plane of inputs with the
straight line w . x + b = 0. The weights are learnt by gradient descent on the log-loss

    C = -(1/m) sum_i [ y_i log a_i + (1 - y_i) log(1 - a_i) ]       (y = 1 for cat, 0 for dog)

over a tiny made-up data set of twelve animals described by two features.

Run:  python examples/one_neuron.py [out_dir]      (writes activations.png into out_dir)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import tinygrad_edu as tg

# Twelve made-up animals: (ear pointiness from 0 = floppy to 1 = pointed, snout length in cm).
ANIMALS = np.array(
    [
        [0.90, 2.5],  # cats
        [0.85, 3.0],
        [0.95, 2.0],
        [0.80, 3.5],
        [0.90, 4.0],
        [0.75, 2.8],
        [0.30, 9.0],  # dogs
        [0.20, 12.0],
        [0.60, 7.5],
        [0.40, 6.0],
        [0.70, 10.0],
        [0.85, 3.2],  # a small dog with pointed ears and a short snout: the hard case
    ]
)
IS_CAT = np.array([1.0] * 6 + [0.0] * 6)  # the labels y: 1 = cat, 0 = dog
NEW_ANIMALS = np.array([[0.88, 2.7], [0.35, 8.5]])  # two animals the neuron has never seen
LEARNING_RATE = 0.5
STEPS = 1000

ACTIVATIONS = {
    "ReLU": (lambda z: z.relu(), lambda z: (z > 0).astype(float), "1 if z > 0 else 0"),
    "tanh": (lambda z: z.tanh(), lambda z: 1 - np.tanh(z) ** 2, "1 - tanh(z)²"),
    "sigmoid": (
        lambda z: z.sigmoid(),
        lambda z: (1 / (1 + np.exp(-z))) * (1 - 1 / (1 + np.exp(-z))),
        "s(z) (1 - s(z))",
    ),
}


def derivatives_from_engine(z_grid: np.ndarray) -> dict:
    """f(z) and f'(z) for each activation, f' computed by the engine's backward pass."""
    out = {}
    for name, (f, _, _) in ACTIVATIONS.items():
        z = tg.Tensor(z_grid, requires_grad=True)
        a = f(z)
        # a is a vector, so backward needs an upstream gradient: ones give each element's f'(z)
        (slope,) = tg.grad(a, z, grad_outputs=tg.ones_like(a))
        out[name] = (a.numpy(), slope.numpy())
    return out


def plot_activations(z_grid: np.ndarray, curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharex=True)
    for ax, (name, (value, slope)) in zip(axes, curves.items()):
        ax.axhline(0, color="0.75", lw=0.8)
        ax.axvline(0, color="0.75", lw=0.8)
        ax.plot(z_grid, value, lw=2.5, label=f"{name}(z)")
        ax.plot(z_grid, slope, lw=2, ls="--", label="derivative from backward()")
        formula = ACTIVATIONS[name][1](z_grid[::8])
        ax.plot(
            z_grid[::8], formula, "o", ms=4, color="C3", label=f"formula: {ACTIVATIONS[name][2]}"
        )
        ax.set_title(f"{name}: the function and its slope")
        ax.set_xlabel("z = w · x + b")
        ax.set_ylim(-1.2, 2.2)
        ax.legend(loc="upper left", fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("a = f(z)   and   f'(z)")
    fig.suptitle("Three activation functions and their derivatives, computed by back-propagation")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def train_cat_or_dog(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, list[float]]:
    """Gradient descent on the log-loss of a = sigmoid(X w + b); returns w, b and the costs."""
    Xt, yt = tg.Tensor(X), tg.Tensor(y)
    w = tg.Tensor(np.zeros(X.shape[1]), requires_grad=True)  # float64, from the numpy array
    b = tg.Tensor(np.zeros(()), requires_grad=True)
    costs = []

    def log_loss() -> tg.Tensor:
        a = (Xt @ w + b).sigmoid()  # (12,): the neuron's output for each animal
        return -(yt * a.log() + (1 - yt) * (1 - a).log()).mean()

    for _ in range(STEPS):
        cost = log_loss()
        w.grad = b.grad = None
        cost.backward()
        with tg.no_grad():  # the update is not part of the model, so it is not recorded
            w -= LEARNING_RATE * w.grad
            b -= LEARNING_RATE * b.grad
        costs.append(cost.item())
    with tg.no_grad():
        costs.append(log_loss().item())  # the cost of the final weights
    return w.numpy().copy(), b.item(), costs


def main(out_dir: str | Path = ".") -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    # Part 1: the activations and their derivatives
    z_grid = np.linspace(-4, 4, 161)  # float64; includes z = 0, where ReLU's slope is taken as 0
    curves = derivatives_from_engine(z_grid)
    print("Part 1: the derivative of each activation, from the engine vs from the formula")
    derivative_error = {}
    for name, (_, slope) in curves.items():
        formula = ACTIVATIONS[name][1](z_grid)
        derivative_error[name] = float(np.abs(slope - formula).max())
        print(
            f"  {name:8s} f'(z) = {ACTIVATIONS[name][2]:18s} largest difference on "
            f"{len(z_grid)} points: {derivative_error[name]:.1e}"
        )
    path = out_dir / "activations.png"
    plot_activations(z_grid, curves, path)
    print(f"  wrote {path}")

    # Part 2: cat or dog?
    print("\nPart 2: one sigmoid neuron decides: cat (a >= 0.5) or dog (a < 0.5)")
    # Put both features on the same scale (mean 0, spread 1) so that one learning rate suits both.
    mean, std = ANIMALS.mean(axis=0), ANIMALS.std(axis=0)
    X = (ANIMALS - mean) / std
    w, b, costs = train_cat_or_dog(X, IS_CAT)
    print(f"  {STEPS} steps of gradient descent, learning rate {LEARNING_RATE}:")
    print(f"  log-loss {costs[0]:.4f} (all weights 0: a = 0.5 for everyone) -> {costs[-1]:.4f}")
    print(f"  learnt weights w = {np.round(w, 3)} (on standardised features), bias b = {b:.3f}")

    a = 1 / (1 + np.exp(-(X @ w + b)))
    said_cat = a >= 0.5
    accuracy = float((said_cat == (IS_CAT == 1)).mean())
    print("   ears  snout   a = P(cat)  decision  truth")
    for (ears, snout), p, cat, truth in zip(ANIMALS, a, said_cat, IS_CAT):
        mark = "" if cat == (truth == 1) else "   <- wrong"
        print(
            f"   {ears:4.2f}  {snout:4.1f}cm  {p:9.3f}   {'cat' if cat else 'dog':8s}  "
            f"{'cat' if truth else 'dog'}{mark}"
        )
    print(f"  accuracy on the twelve animals: {accuracy:.0%}")
    print(
        "  One neuron can only draw a straight line between the classes; the small dog with\n"
        "  pointed ears and a short snout sits among the cats, so no line separates it."
    )

    a_new = 1 / (1 + np.exp(-(((NEW_ANIMALS - mean) / std) @ w + b)))
    print("  two new animals:")
    for (ears, snout), p in zip(NEW_ANIMALS, a_new):
        verdict = "cat" if p >= 0.5 else "dog"
        print(f"   ears {ears:.2f}, snout {snout:.1f} cm: a = {p:.3f} -> {verdict}")

    return {
        "derivative_error": derivative_error,
        "z_grid": z_grid,
        "derivatives": {name: slope for name, (_, slope) in curves.items()},
        "weights": w,
        "bias": b,
        "first_cost": costs[0],
        "final_cost": costs[-1],
        "accuracy": accuracy,
        "new_probabilities": a_new,
        "new_predictions": ["cat" if p >= 0.5 else "dog" for p in a_new],
        "png": path,
    }


if __name__ == "__main__":
    main(*sys.argv[1:2])
