"""Squared error or cross-entropy? The same network trained on the digits with each cost.

Both costs compare the network's probabilities p = softmax(scores) with the answer:
  squared error:  C = sum_k (p_k - y_k)^2          (y: the one-hot vector of the right digit)
  cross-entropy:  C = -log p_right

Their gradients with respect to the scores tell the story. For cross-entropy it is simply p - y:
a confident wrong answer gives a large push. For squared error it is that same difference passed
back through the softmax, whose slope p (1 - p) is nearly zero when a probability is close to 0
or 1, so a confidently wrong network learns slowly. Cross-entropy also reads as "the surprise at
the right answer", which is what a classifier should minimise.

Run:  python examples/mse_vs_cross_entropy.py
"""

from __future__ import annotations

import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu.datasets import load_digits, train_test_split


def train(cost: str, epochs: int, seed: int = 0) -> list[float]:
    """Test accuracy after each epoch of plain SGD with the given cost."""
    tg.manual_seed(seed)
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=seed)
    X_train, X_test = X_train / np.float32(16), X_test / np.float32(16)  # pixels in [0, 1]
    one_hot = np.eye(10, dtype=np.float32)

    model = tg.nn.MLP([64, 32, 10], activation="sigmoid")
    optimizer = tg.optim.SGD(model.parameters(), lr=0.5)
    batches = tg.data.DataLoader(X_train, y_train, batch_size=32, seed=seed)
    accuracies = []
    for _ in range(epochs):
        for xb, yb in batches:
            scores = model(xb)
            if cost == "squared error":
                p = scores.softmax(axis=1)
                loss = F.mse_loss(p, tg.Tensor(one_hot[yb.numpy()]), reduction="sum") / len(yb)
            else:
                loss = F.cross_entropy(scores, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with tg.no_grad():
            pred = model(tg.Tensor(X_test)).argmax(axis=1).numpy()
        accuracies.append(float((pred == y_test).mean()))
    return accuracies


def main(epochs: int = 15) -> dict:
    results = {cost: train(cost, epochs) for cost in ("squared error", "cross-entropy")}
    print("test accuracy after each epoch (same network, same start, same batches):")
    print("epoch  squared error  cross-entropy")
    for i in range(epochs):
        print(
            f"{i + 1:5d}  {results['squared error'][i]:13.2%}  {results['cross-entropy'][i]:13.2%}"
        )
    mse, ce = results["squared error"][-1], results["cross-entropy"][-1]
    print(f"after {epochs} epochs: squared error {mse:.2%}, cross-entropy {ce:.2%}")
    print(
        "cross-entropy learns faster: its gradient p - y does not fade when the network is "
        "confidently wrong"
    )
    return results


if __name__ == "__main__":
    main()
