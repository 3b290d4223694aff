"""A digits classifier written out in full: data, model, cost, optimiser and training loop.

This is what `tinygrad-edu train` does, minus the extras (noise, learning-rate schedule, plots),
spelled out the way you would write it yourself. Each image is 8x8 = 64 grey levels (0-16); the
network maps those 64 inputs through two hidden layers to 10 scores, one per digit, and the
cross-entropy cost pushes the score of the right digit up.

Part 6 trains the same network again with the step under `tg.jit`: the first call of the step
is recorded, the second is checked against eager, and every later call replays the recorded
numpy work. The costs come out the same to the last bit, in less time.

Run:  python examples/digits_classifier.py
"""

from __future__ import annotations

import time

import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu.datasets import load_digits, train_test_split


def build(seed: int) -> tuple[tg.nn.Module, tg.optim.Optimizer]:
    """model: Z1 = X W1^T + b1, A1 = relu(Z1), ... , scores = A2 W3^T + b3; and its optimiser
    (stochastic gradient descent with momentum)."""
    tg.manual_seed(seed)  # the same initial weights every time
    model = tg.nn.Sequential(
        tg.nn.Linear(64, 128),
        tg.nn.ReLU(),
        tg.nn.Linear(128, 64),
        tg.nn.ReLU(),
        tg.nn.Linear(64, 10),
    )
    return model, tg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def main(epochs: int = 30, seed: int = 0) -> dict:
    # 1. data: 1,797 digits, 80% to learn from, 20% held out to measure honestly
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=seed)
    # standardise each pixel (mean 0, std 1 on the training set) so no input dominates
    mean, std = X_train.mean(axis=0), np.maximum(X_train.std(axis=0), np.float32(1.0))
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std

    # 2. and 3. model and optimiser
    model, optimizer = build(seed)
    print(model)
    batches = tg.data.DataLoader(X_train, y_train, batch_size=32, seed=seed)

    # 4. the loop: forward, cost, backward, step - once per mini-batch
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        total = 0.0
        for xb, yb in batches:
            scores = model(xb)  # (32, 10)
            loss = F.cross_entropy(scores, yb)  # one number: the average cost of the batch
            optimizer.zero_grad()  # forget the previous batch's gradients
            loss.backward()  # d loss / d every weight and bias
            optimizer.step()  # move each one a little downhill
            total += loss.item()
        if epoch % 10 == 0 or epoch == 1:
            print(f"epoch {epoch:3d}: average training cost {total / len(batches):.4f}")
    eager_seconds = time.perf_counter() - start

    # 5. evaluate on digits the network has never seen
    model.eval()
    with tg.no_grad():
        predictions = model(tg.Tensor(X_test)).argmax(axis=1).numpy()
    accuracy = float((predictions == y_test).mean())
    print(f"test accuracy: {accuracy:.2%} ({int((predictions == y_test).sum())} of {len(y_test)})")

    # 6. the same training with the step under tg.jit, from the same weights and batches
    model, optimizer = build(seed)
    batches = tg.data.DataLoader(X_train, y_train, batch_size=32, seed=seed)

    @tg.jit
    def train_step(xb: tg.Tensor, yb: tg.Tensor) -> tg.Tensor:
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss  # read it outside the step: a replay runs no Python code inside

    start = time.perf_counter()
    for _ in range(epochs):
        jit_total = 0.0
        for xb, yb in batches:
            jit_total += train_step(xb, yb).item()
    jit_seconds = time.perf_counter() - start
    same = jit_total == total
    print(
        f"under tg.jit: final cost {jit_total / len(batches):.4f} "
        f"({'the same to the last bit' if same else 'DIFFERENT'}), "
        f"{eager_seconds:.2f} s eager, {jit_seconds:.2f} s jitted"
    )
    print("the first lines of the recorded step (print(train_step.trace) shows it all):")
    print("\n".join(train_step.trace.splitlines()[:8]))
    return {
        "accuracy": accuracy,
        "final_cost": total / len(batches),
        "jit_final_cost": jit_total / len(batches),
        "eager_seconds": eager_seconds,
        "jit_seconds": jit_seconds,
        "jit_stats": dict(train_step.stats),
    }


if __name__ == "__main__":
    main()
