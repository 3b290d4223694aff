"""One training step of an MLP classifier, three ways: hand-written numpy, tinygrad_edu, PyTorch.

A step is: forward through Linear-ReLU-...-Linear, cross-entropy (mean) against class indices,
backward, SGD with momentum 0.9 in PyTorch's form (v = 0.9 v + g; p -= lr v), all float32, the
loss read back as a Python float. Every engine is built from the same numpy weights and batch
(`make_problem`), each with its own copies, and `step()` returns that step's loss.

`NumpyMLP` is the practical lower bound: only the arithmetic the step needs, in place where
that is natural, with the softmax-cross-entropy gradient fused into (softmax - onehot) / N and
no gradient for the input batch. The SPEC bars are ratios of tinygrad_edu to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

import tinygrad_edu as tg

LR = 0.01
MOMENTUM = 0.9
SEED = 0


@dataclass(frozen=True)
class Config:
    name: str
    batch: int
    sizes: tuple[int, ...]
    bar_numpy: float  # SPEC: tinygrad_edu / numpy at most this
    bar_torch: float | None = None  # SPEC: tinygrad_edu / PyTorch at most this (None: no bar)
    bar_jit: float | None = None  # SPEC: tg.jit's replayed step / numpy at most this
    min_steps: int = field(default=3)  # at least this many steps per timed loop

    @property
    def label(self) -> str:
        return "-".join(map(str, self.sizes))


CONFIGS = {
    "S": Config("S", 64, (64, 128, 64, 10), bar_numpy=1.7, bar_torch=0.7, bar_jit=1.10),
    "M": Config("M", 256, (64, 256, 256, 10), bar_numpy=1.15, bar_torch=1.0, bar_jit=1.05),
    "L": Config("L", 512, (784, 1024, 1024, 10), bar_numpy=1.05, bar_jit=1.02),
}


@dataclass
class Problem:
    """Initial weights (PyTorch's state-dict keys and layout) and one batch."""

    weights: dict[str, np.ndarray]
    x: np.ndarray  # (batch, sizes[0]) float32
    y: np.ndarray  # (batch,) int64 class indices


def make_problem(config: Config, seed: int = SEED) -> Problem:
    """Weights drawn like PyTorch's Linear (U(-k, k), k = 1/sqrt(fan_in)), a standard-normal
    batch and uniformly random labels, all from one seeded generator."""
    rng = np.random.default_rng(seed)
    weights = {}
    for i, (n_in, n_out) in enumerate(zip(config.sizes, config.sizes[1:])):
        bound = 1 / np.sqrt(n_in)
        key = 2 * i  # Linear layers sit at 0, 2, 4, ... of the Sequential (ReLUs between)
        weights[f"{key}.weight"] = rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32)
        weights[f"{key}.bias"] = rng.uniform(-bound, bound, n_out).astype(np.float32)
    x = rng.standard_normal((config.batch, config.sizes[0])).astype(np.float32)
    y = rng.integers(0, config.sizes[-1], config.batch).astype(np.int64)
    return Problem(weights, x, y)


class NumpyMLP:
    """The hand-written step: the bar tinygrad_edu is measured against."""

    name = "numpy"
    library = "numpy"  # whose BLAS and threads do the arithmetic

    def __init__(self, problem: Problem, lr: float = LR) -> None:
        n_layers = len(problem.weights) // 2
        self.W = [problem.weights[f"{2 * i}.weight"].copy() for i in range(n_layers)]
        self.b = [problem.weights[f"{2 * i}.bias"].copy() for i in range(n_layers)]
        self.vW = [np.zeros_like(w) for w in self.W]  # momentum buffers: v = 0.9 * 0 + g = g
        self.vb = [np.zeros_like(b) for b in self.b]  # on the first step, as in PyTorch
        self.x, self.y = problem.x.copy(), problem.y.copy()
        self.rows = np.arange(len(self.y))
        self.lr = lr

    def step(self) -> float:
        W, b, lr = self.W, self.b, self.lr
        last = len(W) - 1
        # forward, keeping each layer's input (post-ReLU) for the backward pass
        acts = [self.x]
        for i in range(last + 1):
            z = acts[-1] @ W[i].T
            z += b[i]
            if i < last:
                # against an array of zeros: numpy 2.4 runs np.maximum(z, 0) 2.5-3.5x slower
                # here; tinygrad_edu's ReLU does the same, so the bar keeps the faster form
                np.maximum(z, np.zeros(z.shape, z.dtype), out=z)
            acts.append(z)
        # fused softmax + cross-entropy (mean); the logits buffer becomes the gradient
        z = acts.pop()
        n = len(self.y)
        z -= z.max(axis=1, keepdims=True)
        picked = z[self.rows, self.y]
        np.exp(z, out=z)
        total = z.sum(axis=1, keepdims=True)
        loss = (np.log(total).sum() - picked.sum()) / n
        z /= total  # softmax
        z[self.rows, self.y] -= 1
        z *= 1 / n
        g = z  # dL/dlogits = (softmax - onehot) / N
        # backward, updating each layer as soon as its input gradient is out
        for i in range(last, -1, -1):
            a = acts[i]
            gW = g.T @ a
            gb = g.sum(axis=0)
            if i > 0:  # no gradient for the input batch
                g = g @ W[i]
                g *= a > 0  # ReLU backward (a is the ReLU's output)
            vW, vb = self.vW[i], self.vb[i]
            vW *= MOMENTUM
            vW += gW
            np.multiply(vW, lr, out=gW)  # gW is free again: reuse it for lr * v
            W[i] -= gW
            vb *= MOMENTUM
            vb += gb
            np.multiply(vb, lr, out=gb)
            b[i] -= gb
        return loss.item()


class TinygradMLP:
    """tinygrad_edu through its public API, written as a user would."""

    name = "tinygrad_edu"
    library = "numpy"

    def __init__(self, problem: Problem, sizes: tuple[int, ...], lr: float = LR) -> None:
        self.model = tg.nn.MLP(list(sizes))
        self.model.load_state_dict(problem.weights)  # copies the values
        for name, p in self.model.named_parameters():
            if p.dtype != np.float32:
                raise RuntimeError(f"tinygrad_edu: parameter {name} is {p.dtype}, not float32")
        self.opt = tg.optim.SGD(self.model.parameters(), lr=lr, momentum=MOMENTUM)
        self.x = tg.Tensor(problem.x.copy())
        self.y = tg.Tensor(problem.y.copy())

    def step(self) -> float:
        self.opt.zero_grad()
        loss = tg.nn.functional.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return loss.item()  # under tg.jit: an output of the recorded step


class TinygradJitMLP(TinygradMLP):
    """The same user code as TinygradMLP, with the step under tg.jit: the first call records,
    the second is checked against eager, later calls replay the recorded numpy kernels."""

    name = "tinygrad_edu jit"

    def __init__(self, problem: Problem, sizes: tuple[int, ...], lr: float = LR) -> None:
        super().__init__(problem, sizes, lr)
        self._step = tg.jit(super().step)

    def step(self) -> float:
        return self._step()


class TorchMLP:
    """PyTorch CPU eager: nn.Sequential of Linear/ReLU and optim.SGD, default threads."""

    name = "torch"
    library = "torch"

    def __init__(self, torch: Any, problem: Problem, sizes: tuple[int, ...], lr: float = LR):
        layers: list[Any] = []
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(torch.nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        state = {k: torch.from_numpy(v.copy()) for k, v in problem.weights.items()}
        self.model.load_state_dict(state)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=MOMENTUM)
        self.x = torch.from_numpy(problem.x.copy())
        self.y = torch.from_numpy(problem.y.copy())
        self.cross_entropy = torch.nn.functional.cross_entropy

    def step(self) -> float:
        self.opt.zero_grad()
        loss = self.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return loss.item()


def make_engines(config: Config, torch: Any = None) -> list[Any]:
    """Fresh engines for `config`, all from the same weights and batch: numpy, tinygrad_edu and,
    if `torch` is given, PyTorch."""
    problem = make_problem(config)
    engines: list[Any] = [
        NumpyMLP(problem),
        TinygradMLP(problem, config.sizes),
        TinygradJitMLP(problem, config.sizes),
    ]
    if torch is not None:
        engines.append(TorchMLP(torch, problem, config.sizes))
    return engines


class EnginesDisagree(Exception):
    """The engines' losses differ: timing them would compare different computations."""


def check_agreement(engines: list[Any], steps: int = 3, rtol: float = 1e-5) -> dict:
    """Run `steps` steps of each (fresh) engine and compare every loss with numpy's.

    Returns {engine: [loss, ...]}; raises EnginesDisagree with a table of the losses otherwise.
    """
    losses = {e.name: [e.step() for _ in range(steps)] for e in engines}
    ref = losses[engines[0].name]
    bad = [
        name
        for name, ls in losses.items()
        if not np.allclose(ls, ref, rtol=rtol, atol=0.0) or not np.all(np.isfinite(ls))
    ]
    if bad:
        lines = [f"  {k:<13} " + "  ".join(f"{v:.9g}" for v in ls) for k, ls in losses.items()]
        raise EnginesDisagree(
            f"the engines' losses over the first {steps} steps differ (rtol {rtol}) for "
            f"{', '.join(bad)}; not timing different computations:\n" + "\n".join(lines)
        )
    return losses
