"""How close to the floor is tinygrad_edu? A measuring stick, not one of SPEC's bars.

`MinimalEngine` is the smallest general reverse-mode engine for the same training step: tensors
with a gradient and the node that made them, each node a closure over what its backward needs,
the same numpy calls as tinygrad_edu's primitives (fused Linear, ReLU, fused cross-entropy) and
the same walk order (newest node first, from a heap of sequence numbers). It has none of
tinygrad_edu's features: no modules or scopes, no input checks, no version counters, no hooks,
no anomaly mode, no second derivatives, no graph viewer, no optimiser state. Its ratio to the
hand-written numpy step is about the best any Python engine of this kind can do on this machine;
tinygrad_edu's ratio to it is what the features cost.

Per round, each engine runs a timed loop (numpy, minimal, tinygrad_edu, in that order, one
untimed step before each loop); then each engine's step is split into forward (with zero_grad
and the loss), backward and the optimiser step. Medians over rounds; ratios are medians of
per-round ratios.

Run:  .venv/bin/python benchmarks/floor.py [--configs S M] [--rounds 11]
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _mlp import CONFIGS, LR, MOMENTUM, NumpyMLP, Problem, TinygradMLP, make_problem

import tinygrad_edu as tg

_next_seq = itertools.count().__next__


class _T:
    """A tensor: its array, its gradient, and the node that made it (None for a leaf)."""

    __slots__ = ("data", "grad", "node")

    def __init__(self, data: np.ndarray, node: _Node | None = None) -> None:
        self.data, self.grad, self.node = data, None, node


class _Node:
    """The inputs of one op and a closure that maps its output's gradient to theirs."""

    __slots__ = ("inputs", "backward", "seq")

    def __init__(self, inputs: tuple, backward: Callable) -> None:
        self.inputs, self.backward, self.seq = inputs, backward, _next_seq()


def _linear(x: _T, w: _T, b: _T) -> _T:
    X, W = x.data, w.data
    z = X @ W.T
    z += b.data
    return _T(z, _Node((x, w, b), lambda g: (g @ W if x.node else None, g.T @ X, g.sum(axis=0))))


def _relu(x: _T) -> _T:
    X = x.data
    positive = X > 0
    out = np.zeros(X.shape, X.dtype)
    np.maximum(X, out, out=out)
    return _T(out, _Node((x,), lambda g: (g * positive,)))


def _cross_entropy(z: _T, y: np.ndarray) -> _T:
    n, rows = len(y), np.arange(len(y))
    shifted = z.data - z.data.max(axis=1, keepdims=True)
    picked = shifted[rows, y]
    probs = np.exp(shifted, out=shifted)
    total = probs.sum(axis=1, keepdims=True)
    loss = (np.log(total[:, 0]) - picked).sum() / n
    probs /= total

    def backward(g: np.ndarray) -> tuple:
        d = probs.copy()
        d[rows, y] -= 1
        return (d * (g / n),)

    return _T(np.asarray(loss), _Node((z,), backward))


def _backward(root: _T) -> None:
    pending = {root.node: np.ones((), root.data.dtype)}
    heap = [(-root.node.seq, root.node)]
    leaves: dict = {}
    while heap:
        node = heapq.heappop(heap)[1]
        for t, g in zip(node.inputs, node.backward(pending.pop(node))):
            if g is None:
                continue
            if t.node is None:
                leaves[t] = g if t not in leaves else leaves[t] + g
            elif t.node in pending:
                pending[t.node] = pending[t.node] + g
            else:
                pending[t.node] = g
                heapq.heappush(heap, (-t.node.seq, t.node))
    for t, g in leaves.items():
        t.grad = g if t.grad is None else t.grad + g


class MinimalEngine:
    """The training step on the minimal engine (same weights, batch and update rule)."""

    name = "minimal"

    def __init__(self, problem: Problem) -> None:
        self.params = []
        for i in range(len(problem.weights) // 2):
            for kind in ("weight", "bias"):
                self.params.append(_T(problem.weights[f"{2 * i}.{kind}"].copy()))
        self.velocity: list[Any] = [None] * len(self.params)
        self.x, self.y = _T(problem.x.copy()), problem.y.copy()

    def forward(self) -> _T:
        for p in self.params:
            p.grad = None
        h, P = self.x, self.params
        for i in range(0, len(P), 2):
            h = _linear(h, P[i], P[i + 1])
            if i + 2 < len(P):
                h = _relu(h)
        return _cross_entropy(h, self.y)

    def update(self) -> None:
        for i, p in enumerate(self.params):
            v = self.velocity[i]
            if v is None:
                v = self.velocity[i] = p.grad.copy()
            else:
                v *= MOMENTUM
                v += p.grad
            p.data -= LR * v

    def step(self) -> float:
        loss = self.forward()
        _backward(loss)
        self.update()
        return loss.data.item()


def _phases_minimal(e: MinimalEngine, n: int) -> list[float]:
    t, clock = [0.0, 0.0, 0.0], time.perf_counter
    for _ in range(n):
        a = clock()
        loss = e.forward()
        b = clock()
        _backward(loss)
        c = clock()
        e.update()
        d = clock()
        t[0], t[1], t[2] = t[0] + b - a, t[1] + c - b, t[2] + d - c
    return [x / n * 1e6 for x in t]


def _phases_tinygrad(e: TinygradMLP, n: int) -> list[float]:
    t, clock = [0.0, 0.0, 0.0], time.perf_counter
    for _ in range(n):
        a = clock()
        e.opt.zero_grad()
        loss = tg.nn.functional.cross_entropy(e.model(e.x), e.y)
        b = clock()
        loss.backward()
        c = clock()
        e.opt.step()
        d = clock()
        t[0], t[1], t[2] = t[0] + b - a, t[1] + c - b, t[2] + d - c
    return [x / n * 1e6 for x in t]


def _per_step(step: Callable, n: int) -> float:
    step()
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n * 1e6


def run(config_name: str, rounds: int) -> None:
    config = CONFIGS[config_name]
    problem = make_problem(config)
    engines = [NumpyMLP(problem), MinimalEngine(problem), TinygradMLP(problem, config.sizes)]
    losses = [[e.step() for _ in range(3)] for e in engines]
    if not all(np.allclose(ls, losses[0], rtol=1e-5) for ls in losses):
        raise SystemExit(f"the engines' losses differ, not timing: {losses}")
    n = max(3, round(50_000 / _per_step(engines[0].step, 5)))  # loops of ~50 ms of numpy
    times: list[list[float]] = [[], [], []]
    phases: list[list[list[float]]] = [[], []]
    for _ in range(rounds):
        for i, e in enumerate(engines):
            times[i].append(_per_step(e.step, n))
        phases[0].append(_phases_minimal(engines[1], n))
        phases[1].append(_phases_tinygrad(engines[2], n))
    med = statistics.median

    def ratio(i: int, j: int) -> float:
        return med(a / b for a, b in zip(times[i], times[j]))

    print(f"\n{config.name} {config.label} (batch {config.batch}), {rounds} rounds of {n} steps")
    print(f"{'engine':<14}{'us/step':>9}{'x numpy':>9}{'forward':>9}{'backward':>9}{'optim':>8}")
    print(f"{'numpy':<14}{med(times[0]):9.0f}{1:9.3f}")
    for i, name in ((1, "minimal"), (2, "tinygrad_edu")):
        f, b, o = np.median(np.array(phases[i - 1]), axis=0)
        print(f"{name:<14}{med(times[i]):9.0f}{ratio(i, 0):9.3f}{f:9.1f}{b:9.1f}{o:8.1f}")
    print(f"tinygrad_edu / minimal: {ratio(2, 1):.3f} (what the features cost)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["S", "M"], choices=sorted(CONFIGS))
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    for name in args.configs:
        run(name, args.rounds)


if __name__ == "__main__":
    main()
